"""SQL storage of the cycles: totals of a cycle's movements, for one pair or a batch of pairs.

Owns: the aggregate statements over the movements. Protects: one statement reads a pair's
totals and latest cap snapshot, under the pair's lock, so an accrual's cap check sees every
accrual committed before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Row,
    and_,
    case,
    func,
    select,
    text,
    tuple_,
)

from rewardledger.domain.cycles import (
    CashbackTotals,
    DebtKind,
    DebtTotals,
)
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.base import (
    CycleSqlBase,
    Pair,
    between,
)
from rewardledger.storage.schema_cycles import (
    cashback_movements,
    debt_movements,
)
from rewardledger.storage.unit import connection_of

# A tenant's running cashback totals, recomputed from its movements (migration 0010 fills
# them the same way for the movements written before it). Only totals that differ are
# written, and those of pairs without movements deleted, so a rebuild of a tenant whose
# totals are in step writes nothing here.
_DELETE_STALE_TOTALS = text(
    """DELETE FROM cashback_totals WHERE tenant_id = :tenant AND NOT EXISTS (
  SELECT 1 FROM cashback_movements m WHERE m.tenant_id = cashback_totals.tenant_id
  AND m.account_id = cashback_totals.account_id AND m.cycle_tag = cashback_totals.cycle_tag)"""
)
_TOTALS_COLUMNS = (
    "spend_minor",
    "cashback_minor",
    "overridden",
    "cap_minor",
    "cap_occurred_at",
    "cap_movement_id",
)
_UPSERT_TOTALS = """INSERT INTO cashback_totals (tenant_id, account_id, cycle_tag, spend_minor,
                             cashback_minor, overridden, cap_minor, cap_occurred_at,
                             cap_movement_id)
SELECT s.tenant_id, s.account_id, s.cycle_tag, s.spend, s.cashback, s.overridden,
       c.budget_cap_minor, c.occurred_at, c.movement_id
FROM (
  SELECT tenant_id, account_id, cycle_tag, sum(spend_minor) AS spend,
         sum(cashback_minor) AS cashback,
         max(CASE WHEN override THEN 1 ELSE 0 END) = 1 AS overridden
  FROM cashback_movements WHERE tenant_id = :tenant
  GROUP BY tenant_id, account_id, cycle_tag) AS s
LEFT JOIN (
  SELECT tenant_id, account_id, cycle_tag, budget_cap_minor, occurred_at, movement_id,
         row_number() OVER (PARTITION BY tenant_id, account_id, cycle_tag
                            ORDER BY occurred_at DESC, movement_id DESC) AS rank
  FROM cashback_movements WHERE budget_cap_minor IS NOT NULL AND tenant_id = :tenant) AS c
  ON c.tenant_id = s.tenant_id AND c.account_id = s.account_id AND c.cycle_tag = s.cycle_tag
  AND c.rank = 1
WHERE true
ON CONFLICT (tenant_id, account_id, cycle_tag) DO UPDATE SET {assigned}
WHERE {differs}"""


def _upsert_totals(distinct: str) -> Any:
    """The upsert of every pair's totals that writes only those that differ (``distinct``:
    the engine's null-safe inequality, ``IS DISTINCT FROM`` or SQLite's ``IS NOT``)."""
    assigned = ", ".join(f"{name} = excluded.{name}" for name in _TOTALS_COLUMNS)
    differs = " OR ".join(
        f"cashback_totals.{name} {distinct} excluded.{name}" for name in _TOTALS_COLUMNS
    )
    return text(_UPSERT_TOTALS.format(assigned=assigned, differs=differs))


_REBUILD_CASHBACK_TOTALS = {
    "postgresql": (_DELETE_STALE_TOTALS, _upsert_totals("IS DISTINCT FROM")),
    "sqlite": (_DELETE_STALE_TOTALS, _upsert_totals("IS NOT")),
}


class TotalsSql(CycleSqlBase):
    def rebuild_cashback_totals(self, unit: StorageUnit) -> None:
        """Recompute the tenant's running cashback totals from its movements (the rebuild's
        path; every movement keeps them in step otherwise)."""
        connection = connection_of(unit)
        for statement in _REBUILD_CASHBACK_TOTALS[connection.dialect.name]:
            connection.execute(statement, {"tenant": unit.tenant_id})

    def _cashback_totals_query(self, tenant_id: str) -> Any:
        m = cashback_movements.c
        return select(
            m.account_id,
            m.cycle_tag,
            func.coalesce(func.sum(m.spend_minor), 0).label("spend"),
            func.coalesce(func.sum(m.cashback_minor), 0).label("cashback"),
            func.max(case((m.override, 1), else_=0)).label("overridden"),
        ).where(m.tenant_id == tenant_id)

    def cashback_totals(self, unit: StorageUnit, account_id: str, tag: str) -> CashbackTotals:
        """One pair's totals and latest cap snapshot, in one statement (the accrual's path)."""
        m = cashback_movements.c
        pair = and_(m.tenant_id == unit.tenant_id, m.account_id == account_id, m.cycle_tag == tag)
        latest_cap = (
            select(m.budget_cap_minor)
            .where(pair, m.budget_cap_minor.is_not(None))
            .order_by(m.occurred_at.desc(), m.movement_id.desc())
            .limit(1)
            .scalar_subquery()
        )
        row = (
            connection_of(unit)
            .execute(
                select(
                    func.coalesce(func.sum(m.spend_minor), 0).label("spend"),
                    func.coalesce(func.sum(m.cashback_minor), 0).label("cashback"),
                    func.coalesce(func.max(case((m.override, 1), else_=0)), 0).label("overridden"),
                    latest_cap.label("cap"),
                ).where(pair)
            )
            .one()
        )
        return CashbackTotals(
            int(row.spend),
            int(row.cashback),
            None if row.cap is None else int(row.cap),
            bool(row.overridden),
        )

    def _latest_caps(
        self, connection: Connection, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, int]:
        """The latest cap snapshot (by occurrence, then id) of each pair from ``low`` to
        ``high`` (inclusive) that has one."""
        m = cashback_movements.c
        ranked = (
            select(
                m.account_id,
                m.cycle_tag,
                m.budget_cap_minor,
                func.row_number()
                .over(
                    partition_by=(m.account_id, m.cycle_tag),
                    order_by=(m.occurred_at.desc(), m.movement_id.desc()),
                )
                .label("rank"),
            )
            .where(
                m.tenant_id == tenant_id,
                m.budget_cap_minor.is_not(None),
                between(m.account_id, m.cycle_tag, low, high),
            )
            .subquery()
        )
        rows = connection.execute(
            select(ranked.c.account_id, ranked.c.cycle_tag, ranked.c.budget_cap_minor).where(
                ranked.c.rank == 1
            )
        )
        return {(row.account_id, row.cycle_tag): int(row.budget_cap_minor) for row in rows}

    def cashback_pair_totals(
        self, unit: StorageUnit, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str, CashbackTotals]]:
        """Totals of the next ``limit`` (account, cycle) pairs after ``after`` (keyset)."""
        query = self._cashback_totals_query(unit.tenant_id)
        rows = _next_pairs(unit, query, cashback_movements.c.account_id, after, limit)
        if not rows:
            return []
        caps = self._latest_caps(
            connection_of(unit),
            unit.tenant_id,
            (rows[0].account_id, rows[0].cycle_tag),
            (rows[-1].account_id, rows[-1].cycle_tag),
        )
        return [
            (
                row.account_id,
                row.cycle_tag,
                CashbackTotals(
                    int(row.spend),
                    int(row.cashback),
                    caps.get((row.account_id, row.cycle_tag)),
                    bool(row.overridden),
                ),
            )
            for row in rows
        ]

    def _debt_totals_query(self, tenant_id: str) -> Any:
        m = debt_movements.c

        def total(*kinds: DebtKind) -> Any:
            return func.coalesce(
                func.sum(case((m.kind.in_([k.value for k in kinds]), m.amount_minor), else_=0)),
                0,
            )

        return select(
            m.person_id,
            m.cycle_tag,
            total(DebtKind.OPENING).label("opening"),
            func.max(case((m.kind == DebtKind.OPENING.value, 1), else_=0)).label("has_opening"),
            total(DebtKind.CHARGE).label("charges"),
            total(DebtKind.REPAYMENT).label("repayments"),
            total(DebtKind.DISCOUNT).label("discounts"),
            func.max(m.due_at).label("due_at"),
        ).where(m.tenant_id == tenant_id)

    @staticmethod
    def _debt_totals(row: Row[Any]) -> DebtTotals:
        due_at = row.due_at
        if isinstance(due_at, str):  # SQLite's MAX() returns the stored text
            due_at = datetime.fromisoformat(due_at)
        if due_at is not None and due_at.tzinfo is None:
            from datetime import UTC  # noqa: PLC0415

            due_at = due_at.replace(tzinfo=UTC)
        return DebtTotals(
            int(row.opening),
            bool(row.has_opening),
            int(row.charges),
            int(row.repayments),
            int(row.discounts),
            due_at,
        )

    def debt_totals(self, unit: StorageUnit, person_id: str, tag: str) -> DebtTotals:
        m = debt_movements.c
        row = (
            connection_of(unit)
            .execute(
                self._debt_totals_query(unit.tenant_id)
                .where(m.person_id == person_id, m.cycle_tag == tag)
                .group_by(m.person_id, m.cycle_tag)
            )
            .first()
        )
        if row is None:
            return DebtTotals(0, False, 0, 0, 0, None)
        return self._debt_totals(row)

    def debt_pair_totals(
        self, unit: StorageUnit, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str, DebtTotals]]:
        query = self._debt_totals_query(unit.tenant_id)
        rows = _next_pairs(unit, query, debt_movements.c.person_id, after, limit)
        return [(row.person_id, row.cycle_tag, self._debt_totals(row)) for row in rows]


def _next_pairs(
    unit: StorageUnit,
    query: Any,
    holder: Column[str],
    after: Pair | None,
    limit: int,
) -> list[Row[Any]]:
    """``query``'s totals grouped by (holder, cycle) of ``holder``'s table, the next ``limit``
    pairs after ``after``."""
    cycle = holder.table.c.cycle_tag
    if after is not None:
        query = query.where(tuple_(holder, cycle) > tuple_(*after))
    statement = query.group_by(holder, cycle).order_by(holder, cycle).limit(limit)
    return list(connection_of(unit).execute(statement).all())
