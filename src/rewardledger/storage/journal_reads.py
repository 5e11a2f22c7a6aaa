"""Journal reads: transfers by id (with the state of pending ones), history, due holds.

Owns: every read of the ``transfers`` and ``holds`` tables outside the hot write path.
Protects invariants 5 and 8 on read: a pending transfer shows the one row that resolved it,
and every statement is filtered by ``tenant_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from rewardledger.domain.transfers import (
    RESOLVED_STATE,
    JournalEntry,
    Phase,
    StoredRefusal,
    Transfer,
    TransferState,
)
from rewardledger.storage.rows import POSTED_PHASES, transfer_of, with_resolution
from rewardledger.storage.schema import assets, holds, transfers
from rewardledger.storage.store_base import StoreConnections


class JournalQueries(StoreConnections):
    """Reads of the journal and its holds."""

    def get_transfer(self, tenant_id: str, transfer_id: str) -> Transfer | StoredRefusal | None:
        return self.get_records(tenant_id, [transfer_id], with_state=True).get(transfer_id)

    def get_records(
        self, tenant_id: str, transfer_ids: Sequence[str], *, with_state: bool = False
    ) -> dict[str, Transfer | StoredRefusal]:
        query = (
            select(transfers, assets.c.scale)
            .select_from(
                transfers.outerjoin(
                    assets,
                    and_(
                        assets.c.tenant_id == transfers.c.tenant_id,
                        assets.c.code == transfers.c.asset_code,
                    ),
                )
            )
            .where(transfers.c.tenant_id == tenant_id, transfers.c.transfer_id.in_(transfer_ids))
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
            records: dict[str, Transfer | StoredRefusal] = {}
            pending_ids = []
            for row in rows:
                if row.error_code is not None:
                    records[row.transfer_id] = StoredRefusal(
                        row.transfer_id, row.error_code, row.rejection
                    )
                else:
                    records[row.transfer_id] = transfer_of(row)
                    if row.phase == Phase.PENDING.value:
                        pending_ids.append(row.transfer_id)
            if with_state and pending_ids:
                for pending_id, (state, resolved_by) in self._pending_states(
                    connection, tenant_id, pending_ids
                ).items():
                    record = records[pending_id]
                    assert isinstance(record, Transfer)
                    records[pending_id] = with_resolution(record, state, resolved_by)
        return records

    def _pending_states(
        self, connection: Connection, tenant_id: str, pending_ids: Sequence[str]
    ) -> dict[str, tuple[TransferState, str | None]]:
        states: dict[str, tuple[TransferState, str | None]] = {
            pending_id: (TransferState.PENDING, None) for pending_id in pending_ids
        }
        rows = connection.execute(
            select(transfers.c.pending_id, transfers.c.transfer_id, transfers.c.phase).where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.pending_id.in_(pending_ids),
                transfers.c.error_code.is_(None),
            )
        ).all()
        for pending_id, resolution_id, phase in rows:
            states[pending_id] = (RESOLVED_STATE[Phase(phase)], resolution_id)
        return states

    def history(
        self, tenant_id: str, account_id: str, before_seq: int | None, limit: int
    ) -> list[JournalEntry]:
        entries: list[JournalEntry] = []
        with self._read() as connection:
            for side in ("debit", "credit"):
                seq = transfers.c[f"{side}_entry_seq"]
                query = (
                    select(transfers, assets.c.scale)
                    .join(
                        assets,
                        and_(
                            assets.c.tenant_id == transfers.c.tenant_id,
                            assets.c.code == transfers.c.asset_code,
                        ),
                    )
                    .where(
                        transfers.c.tenant_id == tenant_id,
                        transfers.c[f"{side}_account_id"] == account_id,
                        seq.is_not(None),
                    )
                    .order_by(seq.desc())
                    .limit(limit)
                )
                if before_seq is not None:
                    query = query.where(seq < before_seq)
                for row in connection.execute(query):
                    entries.append(
                        JournalEntry(
                            seq=getattr(row, f"{side}_entry_seq"),
                            transfer=transfer_of(row),
                            side=side,
                            balance_after_minor=getattr(row, f"{side}_balance_after"),
                        )
                    )
        entries.sort(key=lambda entry: entry.seq, reverse=True)
        return entries[:limit]

    def posted_balance_at(self, tenant_id: str, account_id: str, at: datetime) -> int:
        total = 0
        with self._read() as connection:
            for side, sign in (("credit", 1), ("debit", -1)):
                amount = connection.execute(
                    select(func.coalesce(func.sum(transfers.c.amount_minor), 0)).where(
                        transfers.c.tenant_id == tenant_id,
                        transfers.c[f"{side}_account_id"] == account_id,
                        transfers.c.error_code.is_(None),
                        transfers.c.phase.in_(POSTED_PHASES),
                        transfers.c.effective_at <= at,
                    )
                ).scalar_one()
                total += sign * int(amount)
        return total

    def due_holds(self, tenant_id: str, now: datetime, limit: int) -> list[str]:
        h = holds.c
        return self._read_column(
            select(h.transfer_id)
            .where(h.tenant_id == tenant_id, h.expires_at.is_not(None), h.expires_at <= now)
            .order_by(h.expires_at, h.transfer_id)
            .limit(limit)
        )
