"""Integrity: the aggregates ``verify`` compares, and the repairs that rebuild totals.

Owns: recomputing every materialized total from the journal alone, finding holds out of step
with open pending transfers, and recording each repair and each change it made. This is the
``verify`` column of docs/invariants.md for invariants 1, 2 and 5 (balances sum to zero,
materialized totals equal the journal, a pending transfer resolved once with one hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, case, exists, func, insert, select, update

from rewardledger.domain.accounts import Account
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.reconciliation import (
    TOTAL_FIELDS,
    AccountDiscrepancy,
    AccountJournalTotals,
)
from rewardledger.domain.repairs import RepairClosing
from rewardledger.domain.transfers import Phase
from rewardledger.storage.posting import new_event_id
from rewardledger.storage.rows import POSTED_PHASES, account_of, columns_of
from rewardledger.storage.schema import (
    accounts,
    holds,
    integrity_repair_changes,
    integrity_repairs,
    outbox,
    transfers,
)
from rewardledger.storage.store_base import StoreConnections
from rewardledger.storage.unit import event_row


class IntegrityQueries(StoreConnections):
    """What ``verify`` reads and what ``repair`` writes."""

    def account_ids_after(self, tenant_id: str, after: str | None, limit: int) -> list[str]:
        """The next ``limit`` account ids in id order after ``after`` (keyset pagination)."""
        query = select(accounts.c.account_id).where(accounts.c.tenant_id == tenant_id)
        if after is not None:
            query = query.where(accounts.c.account_id > after)
        return self._read_column(query.order_by(accounts.c.account_id).limit(limit))

    def integrity_chunk(
        self, tenant_id: str, after: str | None, limit: int
    ) -> tuple[list[Account], dict[str, AccountJournalTotals]]:
        """The next ``limit`` accounts after ``after`` and their journal totals, read from one
        snapshot so that concurrent writes cannot show up as discrepancies."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                query = select(accounts).where(accounts.c.tenant_id == tenant_id)
                if after is not None:
                    query = query.where(accounts.c.account_id > after)
                rows = connection.execute(query.order_by(accounts.c.account_id).limit(limit))
                chunk = [account_of(row) for row in rows]
                totals = _journal_totals(connection, tenant_id, [a.id for a in chunk])
        return chunk, totals

    def asset_sums(self, tenant_id: str) -> dict[str, tuple[int, int]]:
        """Per asset: the sum of posted balances and of pending balances (both must be 0)."""
        query = (
            select(
                accounts.c.asset_code,
                func.sum(accounts.c.credits_posted - accounts.c.debits_posted),
                func.sum(accounts.c.credits_pending - accounts.c.debits_pending),
            )
            .where(accounts.c.tenant_id == tenant_id)
            .group_by(accounts.c.asset_code)
        )
        with self._read() as connection:
            return {
                code: (int(posted), int(pending))
                for code, posted, pending in connection.execute(query)
            }

    def multiply_resolved(self, tenant_id: str) -> list[tuple[str, int]]:
        query = (
            select(transfers.c.pending_id, func.count())
            .where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.pending_id.is_not(None),
                transfers.c.error_code.is_(None),
            )
            .group_by(transfers.c.pending_id)
            .having(func.count() > 1)
        )
        with self._read() as connection:
            return [(pending_id, int(count)) for pending_id, count in connection.execute(query)]

    def hold_mismatches(self, tenant_id: str) -> tuple[list[str], list[str]]:
        """Open pending transfers without a hold, and holds without an open pending transfer."""
        with self._read() as connection:
            return _hold_mismatches(connection, tenant_id)

    def start_repair(self, tenant_id: str, actor: str, now: datetime) -> str:
        repair_id = new_event_id()
        with self._write() as connection:
            connection.execute(
                insert(integrity_repairs).values(
                    tenant_id=tenant_id, repair_id=repair_id, actor=actor, started_at=now
                )
            )
        return repair_id

    def repair_chunk(
        self,
        tenant_id: str,
        repair_id: str,
        account_ids: Sequence[str],
        first_change_seq: int,
    ) -> list[AccountDiscrepancy]:
        """Rebuild these accounts' totals from the journal, under lock; record what changed."""
        with self._write() as connection:
            lock = select(accounts).where(
                accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(account_ids)
            )
            if connection.dialect.name == "postgresql":
                lock = lock.order_by(accounts.c.account_id).with_for_update()
            current = {row.account_id: row for row in connection.execute(lock)}
            journal = _journal_totals(connection, tenant_id, list(current))
            changes: list[AccountDiscrepancy] = []
            for account_id, row in current.items():
                totals = journal[account_id]
                fixed = {}
                for field in TOTAL_FIELDS:
                    before, after = getattr(row, field), getattr(totals, field)
                    if before != after:
                        fixed[field] = after
                        changes.append(
                            AccountDiscrepancy(account_id, row.asset_code, field, before, after)
                        )
                if fixed:
                    connection.execute(
                        update(accounts)
                        .where(
                            accounts.c.tenant_id == tenant_id,
                            accounts.c.account_id == account_id,
                        )
                        .values(**fixed)
                    )
            _record_changes(
                connection,
                tenant_id,
                repair_id,
                first_change_seq,
                [(c.account_id, c.field, c.materialized, c.journal) for c in changes],
            )
        return changes

    def repair_holds(
        self, tenant_id: str, repair_id: str, first_change_seq: int
    ) -> tuple[list[str], list[str]]:
        """Recreate missing holds and drop stray ones; return (recreated, dropped)."""
        with self._write() as connection:
            missing, stray = _hold_mismatches(connection, tenant_id)
            _record_changes(
                connection,
                tenant_id,
                repair_id,
                first_change_seq,
                [(p, "hold", 0, 1) for p in missing] + [(p, "hold", 1, 0) for p in stray],
            )
            if missing:
                connection.execute(
                    insert(holds).from_select(
                        ["tenant_id", "transfer_id", "expires_at"],
                        select(
                            transfers.c.tenant_id, transfers.c.transfer_id, transfers.c.expires_at
                        ).where(
                            transfers.c.tenant_id == tenant_id,
                            transfers.c.transfer_id.in_(missing),
                        ),
                    )
                )
            if stray:
                connection.execute(
                    holds.delete().where(
                        holds.c.tenant_id == tenant_id, holds.c.transfer_id.in_(stray)
                    )
                )
        return missing, stray

    def finish_repair(
        self, tenant_id: str, repair_id: str, closing: RepairClosing, event: OutboxEvent
    ) -> None:
        with self._write() as connection:
            connection.execute(
                update(integrity_repairs)
                .where(
                    integrity_repairs.c.tenant_id == tenant_id,
                    integrity_repairs.c.repair_id == repair_id,
                )
                .values(columns_of(closing))
            )
            connection.execute(insert(outbox), [event_row(tenant_id, event, closing.finished_at)])


def _record_changes(
    connection: Connection,
    tenant_id: str,
    repair_id: str,
    first_change_seq: int,
    changes: Sequence[tuple[str, str, int, int]],
) -> None:
    if not changes:
        return
    connection.execute(
        insert(integrity_repair_changes),
        [
            {
                "tenant_id": tenant_id,
                "repair_id": repair_id,
                "change_seq": first_change_seq + i,
                "target": target,
                "field": field,
                "before_value": before,
                "after_value": after,
            }
            for i, (target, field, before, after) in enumerate(changes)
        ],
    )


def _journal_totals(
    connection: Connection, tenant_id: str, account_ids: Sequence[str]
) -> dict[str, AccountJournalTotals]:
    """Every total an account materializes, recomputed from the journal alone."""
    sums: dict[str, dict[str, int]] = {
        account_id: dict.fromkeys(TOTAL_FIELDS, 0) for account_id in account_ids
    }
    resolution = transfers.alias("resolution")
    unresolved = ~exists().where(
        resolution.c.tenant_id == transfers.c.tenant_id,
        resolution.c.pending_id == transfers.c.transfer_id,
        resolution.c.error_code.is_(None),
    )
    for side in ("debit", "credit"):
        account = transfers.c[f"{side}_account_id"]
        posted = func.coalesce(
            func.sum(
                case((transfers.c.phase.in_(POSTED_PHASES), transfers.c.amount_minor), else_=0)
            ),
            0,
        )
        rows = connection.execute(
            select(account, posted, func.count())
            .where(
                transfers.c.tenant_id == tenant_id,
                account.in_(account_ids),
                transfers.c.error_code.is_(None),
            )
            .group_by(account)
        )
        for account_id, posted_sum, count in rows:
            sums[account_id][f"{side}s_posted"] = int(posted_sum)
            sums[account_id]["entry_count"] += int(count)
        pending_rows = connection.execute(
            select(account, func.sum(transfers.c.amount_minor))
            .where(
                transfers.c.tenant_id == tenant_id,
                account.in_(account_ids),
                transfers.c.error_code.is_(None),
                transfers.c.phase == Phase.PENDING.value,
                unresolved,
            )
            .group_by(account)
        )
        for account_id, pending_sum in pending_rows:
            sums[account_id][f"{side}s_pending"] = int(pending_sum)
    asset_of = dict(
        connection.execute(
            select(accounts.c.account_id, accounts.c.asset_code).where(
                accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(account_ids)
            )
        ).all()
    )
    return {
        account_id: AccountJournalTotals(
            account_id=account_id,
            asset_code=asset_of.get(account_id, ""),
            **values,
        )
        for account_id, values in sums.items()
    }


def _hold_mismatches(connection: Connection, tenant_id: str) -> tuple[list[str], list[str]]:
    resolution = transfers.alias("resolution")
    resolved = exists().where(
        resolution.c.tenant_id == transfers.c.tenant_id,
        resolution.c.pending_id == transfers.c.transfer_id,
        resolution.c.error_code.is_(None),
    )
    held = exists().where(
        holds.c.tenant_id == transfers.c.tenant_id, holds.c.transfer_id == transfers.c.transfer_id
    )
    missing = list(
        connection.execute(
            select(transfers.c.transfer_id).where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.phase == Phase.PENDING.value,
                transfers.c.error_code.is_(None),
                ~resolved,
                ~held,
            )
        ).scalars()
    )
    open_pending = exists().where(
        transfers.c.tenant_id == holds.c.tenant_id,
        transfers.c.transfer_id == holds.c.transfer_id,
        transfers.c.phase == Phase.PENDING.value,
        transfers.c.error_code.is_(None),
        ~resolved,
    )
    stray = list(
        connection.execute(
            select(holds.c.transfer_id).where(holds.c.tenant_id == tenant_id, ~open_pending)
        ).scalars()
    )
    return missing, stray
