"""The budget tables: budgets, periods, reservations, alerts, corrections.

Owns every statement on the tables of ``storage.schema_budgets``. Protects invariant 4 with
``lock_budget``: every write to a budget first locks its row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serializes writers). Writes run on the unit
of work's connection, so they commit or roll back with the journal. Every statement filters
by ``tenant_id``.
"""

from __future__ import annotations

from sqlalchemy import case, func, insert, literal, or_, select, tuple_, update

from rewardledger.domain.budgets import (
    AlertPosition,
    AlertRecord,
    BudgetPolicy,
    CorrectionRecord,
    FixRecord,
    PeriodOpening,
    PeriodRecord,
    ReservationRecord,
)
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.budgets.base import StoreBase
from rewardledger.storage.budgets.rows import (
    COUNTERS,
    alert_of,
    budget_query,
    correction_of,
    insert_unless_found,
    period_of,
    period_query,
    period_update,
    policy_of,
    record_values,
    reservation_of,
    resolves,
)
from rewardledger.storage.rows import record_of
from rewardledger.storage.schema import transfers
from rewardledger.storage.schema_budgets import (
    budget_alerts,
    budget_corrections,
    budget_fixes,
    budget_periods,
    budget_reservations,
    budgets,
)
from rewardledger.storage.unit import connection_of

_ALERT_KEYSET = (
    budget_alerts.c.created_at,
    budget_alerts.c.budget_id,
    budget_alerts.c.period,
    budget_alerts.c.alert_key,
)


class BudgetTables(StoreBase):
    """The statements on the budget tables (half of ``SqlBudgetStore``)."""

    # Budgets -----------------------------------------------------------------------------

    def insert_budget(self, unit: StorageUnit, policy: BudgetPolicy) -> None:
        connection_of(unit).execute(
            insert(budgets).values(
                tenant_id=policy.tenant_id,
                budget_id=policy.id,
                name=policy.name,
                currency=policy.currency,
                hard_cap_minor=policy.hard_cap_minor,
                soft_cap_minor=policy.soft_cap_minor,
                thresholds_percent=",".join(str(t) for t in policy.thresholds_percent),
                period=policy.period.value,
                rollover=policy.rollover,
                member_cap_amount_minor=policy.member_cap_amount_minor,
                member_cap_count=policy.member_cap_count,
                created_at=policy.created_at,
                funding=policy.funding.value,
            )
        )

    def lock_budget(
        self, unit: StorageUnit, tenant_id: str, budget_id: str
    ) -> tuple[BudgetPolicy, str | None] | None:
        """The budget and its current period, its row locked until the unit ends."""
        query = budget_query(tenant_id).where(budgets.c.budget_id == budget_id)
        if self._postgres:
            query = query.with_for_update(of=budgets)
        row = connection_of(unit).execute(query).first()
        return None if row is None else (policy_of(row), row.current_period)

    def get_budget(self, tenant_id: str, budget_id: str) -> BudgetPolicy | None:
        with self._reading(None) as connection:
            row = connection.execute(
                budget_query(tenant_id).where(budgets.c.budget_id == budget_id)
            ).first()
        return None if row is None else policy_of(row)

    def list_budgets(self, tenant_id: str, after: str | None, limit: int) -> list[BudgetPolicy]:
        query = budget_query(tenant_id).order_by(budgets.c.budget_id).limit(limit)
        if after is not None:
            query = query.where(budgets.c.budget_id > after)
        with self._reading(None) as connection:
            return [policy_of(row) for row in connection.execute(query)]

    def set_current_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str
    ) -> None:
        connection_of(unit).execute(
            update(budgets)
            .where(budgets.c.tenant_id == tenant_id, budgets.c.budget_id == budget_id)
            .values(current_period=period)
        )

    # Periods -----------------------------------------------------------------------------

    def get_period(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> PeriodRecord | None:
        query = period_query(tenant_id, budget_id).where(budget_periods.c.period == period)
        with self._reading(unit) as connection:
            row = connection.execute(query).first()
        return None if row is None else period_of(row)

    def periods(self, unit: ReadUnit | None, tenant_id: str, budget_id: str) -> list[PeriodRecord]:
        """Every period of the budget, oldest first (by the time it was opened)."""
        query = period_query(tenant_id, budget_id).order_by(
            budget_periods.c.opened_at, budget_periods.c.period
        )
        with self._reading(unit) as connection:
            return [period_of(row) for row in connection.execute(query)]

    def insert_period(self, unit: StorageUnit, opening: PeriodOpening) -> None:
        connection_of(unit).execute(insert(budget_periods).values(record_values(opening)))

    def set_period_counters(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, **values: int
    ) -> None:
        """Set counters of the period to ``values`` (a fix from the journal, audited)."""
        assert values, values
        assert set(values) <= set(COUNTERS), values
        connection_of(unit).execute(period_update(tenant_id, budget_id, period).values(**values))

    def insert_fix(self, unit: StorageUnit, record: FixRecord) -> None:
        connection_of(unit).execute(insert(budget_fixes).values(record_values(record)))

    def fixes(self, unit: ReadUnit | None, tenant_id: str, budget_id: str) -> list[FixRecord]:
        query = (
            select(budget_fixes)
            .where(budget_fixes.c.tenant_id == tenant_id, budget_fixes.c.budget_id == budget_id)
            .order_by(budget_fixes.c.created_at, budget_fixes.c.period, budget_fixes.c.figure)
        )
        with self._reading(unit) as connection:
            return [record_of(FixRecord, row) for row in connection.execute(query)]

    def add_to_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, **deltas: int
    ) -> None:
        assert deltas, deltas
        assert set(deltas) <= set(COUNTERS), deltas
        added = {name: budget_periods.c[name] + delta for name, delta in deltas.items()}
        connection_of(unit).execute(period_update(tenant_id, budget_id, period).values(added))

    # Reservations ------------------------------------------------------------------------

    def get_reservation(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, reference: str
    ) -> ReservationRecord | None:
        query = select(budget_reservations).where(
            budget_reservations.c.tenant_id == tenant_id,
            budget_reservations.c.budget_id == budget_id,
            budget_reservations.c.reference == reference,
        )
        with self._reading(unit) as connection:
            row = connection.execute(query).first()
        return None if row is None else reservation_of(row)

    def insert_reservation(self, unit: StorageUnit, record: ReservationRecord) -> None:
        connection_of(unit).execute(insert(budget_reservations).values(record_values(record)))

    def member_usage(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, member_key: str
    ) -> tuple[int, int]:
        """(amount, count) of the member's reservations in the period that still count: open
        ones at their reserved amount, charged ones at their charged amount; released and
        expired ones not at all."""
        resolved = transfers.alias("resolved")
        r = budget_reservations
        counted = or_(resolved.c.transfer_id.is_(None), resolved.c.phase == "post")
        row = (
            connection_of(unit)
            .execute(
                select(
                    func.coalesce(
                        func.sum(
                            case(
                                (resolved.c.transfer_id.is_(None), r.c.amount_minor),
                                (resolved.c.phase == "post", resolved.c.amount_minor),
                                else_=0,
                            )
                        ),
                        0,
                    ),
                    func.coalesce(func.sum(case((counted, 1), else_=0)), 0),
                )
                .select_from(r.outerjoin(resolved, resolves(resolved, r.c)))
                .where(
                    r.c.tenant_id == tenant_id,
                    r.c.budget_id == budget_id,
                    r.c.period == period,
                    r.c.member_key == member_key,
                )
            )
            .one()
        )
        return int(row[0]), int(row[1])

    def reservations_total(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> int:
        with self._reading(unit) as connection:
            return int(
                connection.execute(
                    select(func.coalesce(func.sum(budget_reservations.c.amount_minor), 0)).where(
                        budget_reservations.c.tenant_id == tenant_id,
                        budget_reservations.c.budget_id == budget_id,
                        budget_reservations.c.period == period,
                    )
                ).scalar_one()
            )

    # Alerts ------------------------------------------------------------------------------

    def insert_alert_if_absent(self, unit: StorageUnit, tenant_id: str, alert: AlertRecord) -> bool:
        """Write the alert unless its key was written in this period; True if written.

        Called under the budget's row lock, so two writers never race for one key.
        """
        return insert_unless_found(
            connection_of(unit),
            budget_alerts,
            {
                "tenant_id": tenant_id,
                "budget_id": alert.budget_id,
                "period": alert.period,
                "alert_key": alert.key,
            },
            {
                "kind": alert.kind,
                "level": alert.level,
                "threshold_percent": alert.threshold_percent,
                "details": alert.details,
                "created_at": alert.created_at,
            },
        )

    def alerts(
        self, tenant_id: str, budget_id: str | None, limit: int, before: AlertPosition | None = None
    ) -> list[AlertRecord]:
        """The newest alerts first, strictly before the keyset position ``before`` =
        (created_at, budget_id, period, alert_key) of the previous page's last alert."""
        a = budget_alerts
        query = (
            select(a)
            .where(a.c.tenant_id == tenant_id)
            .order_by(
                a.c.created_at.desc(), a.c.budget_id.desc(), a.c.period.desc(), a.c.alert_key.desc()
            )
            .limit(limit)
        )
        if budget_id is not None:
            query = query.where(a.c.budget_id == budget_id)
        if before is not None:
            query = query.where(
                tuple_(a.c.created_at, a.c.budget_id, a.c.period, a.c.alert_key)
                < tuple_(*(literal(v, c.type) for v, c in zip(before, _ALERT_KEYSET, strict=True)))
            )
        with self._reading(None) as connection:
            return [alert_of(row) for row in connection.execute(query)]

    # Corrections -------------------------------------------------------------------------

    def corrected_amount(self, unit: StorageUnit, tenant_id: str, reverses_id: str) -> int:
        return int(
            connection_of(unit)
            .execute(
                select(func.coalesce(func.sum(budget_corrections.c.amount_minor), 0)).where(
                    budget_corrections.c.tenant_id == tenant_id,
                    budget_corrections.c.reverses_id == reverses_id,
                )
            )
            .scalar_one()
        )

    def insert_correction(self, unit: StorageUnit, record: CorrectionRecord) -> None:
        connection_of(unit).execute(insert(budget_corrections).values(record_values(record)))

    def corrections(self, tenant_id: str, budget_id: str) -> list[CorrectionRecord]:
        with self._reading(None) as connection:
            rows = connection.execute(
                select(budget_corrections)
                .where(
                    budget_corrections.c.tenant_id == tenant_id,
                    budget_corrections.c.budget_id == budget_id,
                )
                .order_by(budget_corrections.c.created_at, budget_corrections.c.transfer_id)
            ).all()
        return [correction_of(row) for row in rows]
