"""SQL storage of the cycles: the ``cashback_ledger`` and ``debt_ledger`` rows.

Owns: key ranges, upserts and filtered pages of the rows, and the debt carried between
cycles. Protects: rows are read and written by their (holder, cycle) key, in key order, so a
keyset page never skips or repeats a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Row,
    Table,
    and_,
    func,
    select,
    tuple_,
)
from sqlalchemy.sql import ColumnElement

from rewardledger.domain.cycles import (
    CashbackRow,
    DebtRow,
    LedgerFilter,
    LedgerName,
    row_id,
)
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.cycles.base import (
    CycleSqlBase,
    Pair,
    between,
    cashback_row_of,
    debt_row_of,
)
from rewardledger.storage.schema_cycles import (
    cashback_ledger,
    cashback_movements,
    debt_ledger,
    debt_movements,
)
from rewardledger.storage.unit import connection_of

RowT = TypeVar("RowT", CashbackRow, DebtRow)


class RowsSql(CycleSqlBase):
    def previous_debt_net(self, unit: StorageUnit, person_id: str, tag: str) -> int:
        """The net debt of the person's latest cycle before ``tag`` that has a row (else 0)."""
        d = debt_ledger.c
        value = connection_of(unit).scalar(
            select(d.net_debt_minor)
            .where(d.tenant_id == unit.tenant_id, d.person_id == person_id, d.cycle_tag < tag)
            .order_by(d.cycle_tag.desc())
            .limit(1)
        )
        return int(value) if value is not None else 0

    def count_pairs(self, tenant_id: str) -> int:
        with self.engine.connect() as connection:
            total = 0
            for table, holder in (
                (cashback_movements, cashback_movements.c.account_id),
                (debt_movements, debt_movements.c.person_id),
            ):
                pairs = (
                    select(holder, table.c.cycle_tag)
                    .where(table.c.tenant_id == tenant_id)
                    .group_by(holder, table.c.cycle_tag)
                    .subquery()
                )
                total += int(connection.scalar(select(func.count()).select_from(pairs)) or 0)
            return total

    def cashback_rows(
        self, unit: ReadUnit | None, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, CashbackRow]:
        """The stored rows whose key is from ``low`` to ``high`` (inclusive)."""
        holder = cashback_ledger.c.account_id
        return self._range(unit, holder, cashback_row_of, tenant_id, low, high)

    def debt_rows(
        self, unit: ReadUnit | None, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, DebtRow]:
        return self._range(unit, debt_ledger.c.person_id, debt_row_of, tenant_id, low, high)

    def _range(
        self,
        unit: ReadUnit | None,
        holder: Column[str],
        row_of: Callable[[Row[Any]], RowT],
        tenant_id: str,
        low: Pair,
        high: Pair,
    ) -> dict[Pair, RowT]:
        """The rows of ``holder``'s table whose key is from ``low`` to ``high`` (inclusive)."""
        t = holder.table.c
        query = select(holder.table).where(
            t.tenant_id == tenant_id, between(holder, t.cycle_tag, low, high)
        )
        with self._reading(unit) as connection:
            rows = connection.execute(query)
            return {(row._mapping[holder.name], row.cycle_tag): row_of(row) for row in rows}

    def upsert_cashback_rows(
        self, unit: StorageUnit, rows: Sequence[CashbackRow], now: datetime
    ) -> None:
        self._upsert(
            connection_of(unit),
            cashback_ledger,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "account_id": row.account_id,
                    "cycle_tag": row.cycle_tag,
                    "cashback_ledger_id": row_id(
                        LedgerName.CASHBACK, unit.tenant_id, row.account_id, row.cycle_tag
                    ),
                    "total_spend_minor": row.total_spend_minor,
                    "total_cashback_minor": row.total_cashback_minor,
                    "budget_cap_minor": row.budget_cap_minor,
                    "eligibility": row.eligibility.value,
                    "remaining_budget_minor": row.remaining_budget_minor,
                    "status": row.status.value,
                    "notes": row.notes,
                    "last_updated": now,
                }
                for row in rows
            ],
        )

    def upsert_debt_rows(self, unit: StorageUnit, rows: Sequence[DebtRow], now: datetime) -> None:
        self._upsert(
            connection_of(unit),
            debt_ledger,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "person_id": row.person_id,
                    "cycle_tag": row.cycle_tag,
                    "debt_ledger_id": row_id(
                        LedgerName.DEBT, unit.tenant_id, row.person_id, row.cycle_tag
                    ),
                    "initial_debt_minor": row.initial_debt_minor,
                    "new_debt_minor": row.new_debt_minor,
                    "repayments_minor": row.repayments_minor,
                    "debt_discount_minor": row.debt_discount_minor,
                    "net_debt_minor": row.net_debt_minor,
                    "status": row.status.value,
                    "due_at": row.due_at,
                    "notes": row.notes,
                    "last_updated": now,
                }
                for row in rows
            ],
        )

    def list_cashback_rows(
        self, tenant_id: str, where: LedgerFilter, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[CashbackRow, datetime]]:
        c = cashback_ledger.c
        extra = [] if where.eligibility is None else [c.eligibility == where.eligibility]
        rows = self._listed(cashback_ledger, c.account_id, tenant_id, where, after, limit, extra)
        return [(cashback_row_of(row), row.last_updated) for row in rows]

    def list_debt_rows(
        self, tenant_id: str, where: LedgerFilter, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[DebtRow, datetime]]:
        d = debt_ledger.c
        rows = self._listed(debt_ledger, d.person_id, tenant_id, where, after, limit, [])
        return [(debt_row_of(row), row.last_updated) for row in rows]

    def debt_sums(self, tenant_id: str, limit: int) -> tuple[list[tuple[str, str, int]], int]:
        """(cycle, status, net debt) summed over the first ``limit`` rows in (person, cycle)
        order, and how many rows that was: one statement, no row reaches Python."""
        d = debt_ledger.c
        first = (
            select(d.cycle_tag, d.status, d.net_debt_minor)
            .where(d.tenant_id == tenant_id)
            .order_by(d.person_id, d.cycle_tag)
            .limit(limit)
            .subquery()
        )
        query = (
            select(
                first.c.cycle_tag,
                first.c.status,
                func.sum(first.c.net_debt_minor),
                func.count(),
            )
            .group_by(first.c.cycle_tag, first.c.status)
            .order_by(first.c.cycle_tag, first.c.status)
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).all()
        sums = [(str(r[0]), str(r[1]), int(r[2] or 0)) for r in found]
        return sums, sum(int(r[3]) for r in found)

    def _listed(
        self,
        table: Table,
        holder: ColumnElement[str],
        tenant_id: str,
        where: LedgerFilter,
        after: Pair | None,
        limit: int,
        extra: list[ColumnElement[bool]],
    ) -> list[Row[Any]]:
        """A page of ``table``'s rows matching ``where`` after ``after``, in (holder, cycle)
        order; ``extra`` adds the conditions only one ledger has."""
        t = table.c
        conditions: list[ColumnElement[bool]] = [t.tenant_id == tenant_id, *extra]
        if where.holder_id is not None:
            conditions.append(holder == where.holder_id)
        if where.cycle_tag is not None:
            conditions.append(t.cycle_tag == where.cycle_tag)
        if where.status is not None:
            conditions.append(t.status == where.status)
        if after is not None:
            conditions.append(tuple_(holder, t.cycle_tag) > tuple_(*after))
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(table)
                    .where(and_(*conditions))
                    .order_by(holder, t.cycle_tag)
                    .limit(limit)
                )
            )
