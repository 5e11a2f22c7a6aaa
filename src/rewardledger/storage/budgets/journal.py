"""The core's accounts and journal, seen from a budget.

Owns the budget-side statements on the core's tables: opening a budget's accounts in the
use case's unit, a period account's totals, a reservation's resolution, and the journal reads
of reconciliation, reports and the entries list (totals by entry type, open pending, pages).
Reads are of accepted rows only (``error_code IS NULL``) and filter by ``tenant_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal, or_, select, tuple_, union_all

from rewardledger.domain.budgets import (
    ALL_TIME,
    AccountOpening,
    EntryQuery,
    EntryRecord,
    KindTotals,
    Resolution,
    Window,
)
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.budgets.base import StoreBase
from rewardledger.storage.budgets.rows import entry_of, entry_query, insert_unless_found, resolves
from rewardledger.storage.schema import accounts, transfers
from rewardledger.storage.unit import connection_of


class JournalReads(StoreBase):
    """The statements on the core's accounts and journal (half of ``SqlBudgetStore``)."""

    def ensure_account(self, unit: StorageUnit, opening: AccountOpening) -> bool:
        """Open the account if it does not exist; True if it was opened now.

        A concurrent twin that opens it first makes the insert collide: the unit is re-run
        (``DuplicateIdError``) and finds it.
        """
        return insert_unless_found(
            connection_of(unit),
            accounts,
            {"tenant_id": opening.tenant_id, "account_id": opening.account_id},
            {
                "asset_code": opening.asset_code,
                "no_negative": opening.no_negative,
                "metadata": None,
                "created_at": opening.opened_at,
                "updated_at": opening.opened_at,
                "managed_by": opening.managed_by,
            },
        )

    def account_totals(
        self, unit: ReadUnit | None, tenant_id: str, account_ids: Sequence[str]
    ) -> dict[str, tuple[int, int, int]]:
        """account id -> (credits_posted, debits_posted, debits_pending)."""
        query = select(
            accounts.c.account_id,
            accounts.c.credits_posted,
            accounts.c.debits_posted,
            accounts.c.debits_pending,
        ).where(accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(account_ids))
        with self._reading(unit) as connection:
            rows = connection.execute(query).all()
        return {r.account_id: (r.credits_posted, r.debits_posted, r.debits_pending) for r in rows}

    def journal_row(
        self, unit: StorageUnit, tenant_id: str, transfer_id: str
    ) -> EntryRecord | None:
        row = (
            connection_of(unit)
            .execute(entry_query(tenant_id).where(transfers.c.transfer_id == transfer_id))
            .first()
        )
        return None if row is None else entry_of(row)

    def resolution(self, unit: StorageUnit, tenant_id: str, pending_id: str) -> Resolution | None:
        """How a pending transfer was resolved (post, void or expire), or None while open."""
        row = (
            connection_of(unit)
            .execute(
                select(transfers.c.transfer_id, transfers.c.phase, transfers.c.amount_minor).where(
                    transfers.c.tenant_id == tenant_id,
                    transfers.c.pending_id == pending_id,
                    transfers.c.error_code.is_(None),
                )
            )
            .first()
        )
        return None if row is None else Resolution(row.transfer_id, row.phase, row.amount_minor)

    def kind_totals(
        self, unit: ReadUnit | None, tenant_id: str, account_id: str, window: Window = ALL_TIME
    ) -> KindTotals:
        """Totals and counts of the account's accepted journal rows by entry type, from the
        journal alone, optionally within ``window`` = [since, until) of their effective time.

        The rest of a partial charge (held minus posted) is released when the charge posts,
        without a row of its own: it is added to the release total, at the charge's time, and
        not counted as a release (the same in one statement)."""
        t = transfers
        held = transfers.alias("held")
        touching = or_(t.c.debit_account_id == account_id, t.c.credit_account_id == account_id)
        accepted = [t.c.tenant_id == tenant_id, t.c.error_code.is_(None), touching]
        since, until = window
        if since is not None:
            accepted.append(t.c.effective_at >= since)
        if until is not None:
            accepted.append(t.c.effective_at < until)
        by_kind = (
            select(
                t.c.phase,
                t.c.kind,
                t.c.credit_account_id,
                func.count().label("rows"),
                func.coalesce(func.sum(t.c.amount_minor), 0).label("amount"),
            )
            .where(*accepted)
            .group_by(t.c.phase, t.c.kind, t.c.credit_account_id)
        )
        rests = (
            select(
                literal("void").label("phase"),
                held.c.kind,
                held.c.credit_account_id,
                literal(0).label("rows"),
                func.coalesce(func.sum(held.c.amount_minor - t.c.amount_minor), 0).label("amount"),
            )
            .select_from(t.join(held, resolves(t, held.c)))
            .where(*accepted, t.c.phase == "post")
            .group_by(held.c.kind, held.c.credit_account_id)
        )
        with self._reading(unit) as connection:
            rows = connection.execute(union_all(by_kind, rests)).all()
        return KindTotals.from_rows(
            [
                (r.phase, r.kind, r.credit_account_id == account_id, int(r[3]), int(r[4]))
                for r in rows
            ]
        )

    def open_pending_total(self, unit: ReadUnit | None, tenant_id: str, account_id: str) -> int:
        """What the account's open pending transfers hold, from the journal alone."""
        t = transfers
        resolved = transfers.alias("resolved")
        with self._reading(unit) as connection:
            return int(
                connection.execute(
                    select(func.coalesce(func.sum(t.c.amount_minor), 0))
                    .select_from(t.outerjoin(resolved, resolves(resolved, t.c)))
                    .where(
                        t.c.tenant_id == tenant_id,
                        t.c.debit_account_id == account_id,
                        t.c.phase == "pending",
                        t.c.error_code.is_(None),
                        resolved.c.transfer_id.is_(None),
                    )
                ).scalar_one()
            )

    def entries(self, tenant_id: str, wanted: EntryQuery) -> list[EntryRecord]:
        """Accepted journal rows touching the accounts, newest first (as the seed's
        ``GetLedgerEntries``: created_at DESC), created in [since, until), after the keyset
        position ``after`` = (created_at, transfer_id) of the previous page's last row."""
        t = transfers
        accounts = wanted.account_ids
        query = (
            entry_query(tenant_id)
            .where(
                t.c.error_code.is_(None),
                or_(t.c.debit_account_id.in_(accounts), t.c.credit_account_id.in_(accounts)),
            )
            .order_by(t.c.created_at.desc(), t.c.transfer_id.desc())
            .limit(wanted.limit)
        )
        since, until = wanted.window
        if since is not None:
            query = query.where(t.c.created_at >= since)
        if until is not None:
            query = query.where(t.c.created_at < until)
        if wanted.after is not None:
            # A row value, so that both engines seek the index to the position instead of
            # scanning it from the newest row (an OR of the two cases is not a range to them).
            created_at, transfer_id = wanted.after
            query = query.where(
                tuple_(t.c.created_at, t.c.transfer_id)
                < tuple_(literal(created_at, t.c.created_at.type), literal(transfer_id))
            )
        with self._reading(None) as connection:
            return [entry_of(row) for row in connection.execute(query)]
