"""Pages of a budget's reservations (with how each was resolved) and of its corrections.

Owns: the keyset reads behind ``GET /budgets/{bid}/reservations`` and ``.../corrections``.
Reservations are read by reference (their primary key), each joined to the one accepted row
that resolved its pending transfer (``ix_transfers_one_resolution``); corrections in the order
they were made, (created_at, transfer_id), on ``ix_budget_corrections_budget`` (migration
0016). Every statement filters by ``tenant_id``.
"""

from __future__ import annotations

from sqlalchemy import and_, literal, select, tuple_

from rewardledger.domain.budgets import (
    CorrectionRecord,
    ReservationRecord,
    Resolution,
    TimePosition,
)
from rewardledger.storage.budgets.base import StoreBase
from rewardledger.storage.budgets.rows import correction_of
from rewardledger.storage.rows import record_of
from rewardledger.storage.schema import transfers
from rewardledger.storage.schema_budgets import budget_corrections, budget_reservations


class BudgetLists(StoreBase):
    def reservations_page(
        self, tenant_id: str, budget_id: str, after: str | None, limit: int
    ) -> list[tuple[ReservationRecord, Resolution | None]]:
        """The budget's reservations by reference after ``after``, each with its resolution
        (None while it is still held)."""
        r, s = budget_reservations, transfers.alias("resolution")
        joined = r.outerjoin(
            s,
            and_(
                s.c.tenant_id == r.c.tenant_id,
                s.c.pending_id == r.c.transfer_id,
                s.c.error_code.is_(None),
            ),
        )
        query = (
            select(
                r,
                s.c.transfer_id.label("s_transfer_id"),
                s.c.phase.label("s_phase"),
                s.c.amount_minor.label("s_amount_minor"),
            )
            .select_from(joined)
            .where(r.c.tenant_id == tenant_id, r.c.budget_id == budget_id)
            .order_by(r.c.reference)
            .limit(limit)
        )
        if after is not None:
            query = query.where(r.c.reference > after)
        with self._reading(None) as connection:
            rows = connection.execute(query).all()
        return [
            (
                record_of(ReservationRecord, row),
                None
                if row.s_transfer_id is None
                else Resolution(row.s_transfer_id, row.s_phase, row.s_amount_minor),
            )
            for row in rows
        ]

    def corrections_page(
        self,
        tenant_id: str,
        budget_id: str,
        after: TimePosition | None,
        limit: int,
    ) -> list[CorrectionRecord]:
        """The budget's corrections oldest first, after the keyset position ``after`` =
        (created_at, transfer_id) of the previous page's last one."""
        c = budget_corrections
        query = (
            select(c)
            .where(c.c.tenant_id == tenant_id, c.c.budget_id == budget_id)
            .order_by(c.c.created_at, c.c.transfer_id)
            .limit(limit)
        )
        if after is not None:
            created_at, transfer_id = after
            query = query.where(
                tuple_(c.c.created_at, c.c.transfer_id)
                > tuple_(literal(created_at, c.c.created_at.type), literal(transfer_id))
            )
        with self._reading(None) as connection:
            return [correction_of(row) for row in connection.execute(query)]
