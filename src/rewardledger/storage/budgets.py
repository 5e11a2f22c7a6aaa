"""``SqlBudgetStore``: the tables of campaign budgets, through SQLAlchemy 2 Core.

Owns: every statement on the budget tables, and the budget-side reads of the core's accounts
and journal (a period account's totals, a reservation's resolution, totals by entry type).
In-transaction statements run on a unit of work's connection (``StorageUnit.connection``), so
they commit or roll back with the journal. Protects invariant 4 with ``lock_budget``: every
write to a budget first locks its row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serializes writers). Every statement filters by ``tenant_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, case, func, insert, or_, select, update

from rewardledger.domain.budgets import (
    AlertDue,
    AlertRecord,
    BudgetPeriod,
    BudgetPolicy,
    CorrectionRecord,
    EntryRecord,
    KindTotals,
    PeriodRecord,
    ReservationRecord,
    Resolution,
)
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.schema import accounts, assets, transfers
from rewardledger.storage.schema_budgets import (
    budget_alerts,
    budget_corrections,
    budget_periods,
    budget_reservations,
    budgets,
)
from rewardledger.storage.unit import SqlSnapshot, connection_of, reading, snapshot

_COUNTERS = (
    "funded_minor",
    "rolled_in_minor",
    "rolled_out_minor",
    "reversed_funds_minor",
    "reversed_charges_minor",
    "reserved_total_minor",
    "rollovers_count",
)


class SqlBudgetStore:
    """Implements ``rewardledger.services.budgets.BudgetStore``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def snapshot(self, tenant_id: str) -> AbstractContextManager[SqlSnapshot]:
        return snapshot(self._engine, tenant_id)

    def _reading(self, unit: ReadUnit | None) -> AbstractContextManager[Connection]:
        return reading(self._engine, unit)

    # Budgets ---------------------------------------------------------------------------------

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
            )
        )

    def lock_budget(
        self, unit: StorageUnit, tenant_id: str, budget_id: str
    ) -> tuple[BudgetPolicy, str | None] | None:
        """The budget and its current period, its row locked until the unit ends."""
        query = _budget_query(tenant_id).where(budgets.c.budget_id == budget_id)
        if self._postgres:
            query = query.with_for_update(of=budgets)
        row = connection_of(unit).execute(query).first()
        return None if row is None else (_policy(row), row.current_period)

    def get_budget(self, tenant_id: str, budget_id: str) -> BudgetPolicy | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                _budget_query(tenant_id).where(budgets.c.budget_id == budget_id)
            ).first()
        return None if row is None else _policy(row)

    def list_budgets(self, tenant_id: str, after: str | None, limit: int) -> list[BudgetPolicy]:
        query = _budget_query(tenant_id).order_by(budgets.c.budget_id).limit(limit)
        if after is not None:
            query = query.where(budgets.c.budget_id > after)
        with self._engine.connect() as connection:
            return [_policy(row) for row in connection.execute(query)]

    def set_current_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str
    ) -> None:
        connection_of(unit).execute(
            update(budgets)
            .where(budgets.c.tenant_id == tenant_id, budgets.c.budget_id == budget_id)
            .values(current_period=period)
        )

    # Periods ---------------------------------------------------------------------------------

    def get_period(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> PeriodRecord | None:
        query = _period_query(tenant_id, budget_id).where(budget_periods.c.period == period)
        if unit is not None:
            row = connection_of(unit).execute(query).first()
        else:
            with self._engine.connect() as connection:
                row = connection.execute(query).first()
        return None if row is None else _period(row)

    def periods(self, unit: ReadUnit | None, tenant_id: str, budget_id: str) -> list[PeriodRecord]:
        """Every period of the budget, oldest first (by the time it was opened)."""
        query = _period_query(tenant_id, budget_id).order_by(
            budget_periods.c.opened_at, budget_periods.c.period
        )
        if unit is not None:
            return [_period(row) for row in connection_of(unit).execute(query)]
        with self._engine.connect() as connection:
            return [_period(row) for row in connection.execute(query)]

    def insert_period(
        self,
        unit: StorageUnit,
        tenant_id: str,
        budget_id: str,
        period: str,
        account_id: str,
        now: datetime,
    ) -> None:
        connection_of(unit).execute(
            insert(budget_periods).values(
                tenant_id=tenant_id,
                budget_id=budget_id,
                period=period,
                account_id=account_id,
                opened_at=now,
            )
        )

    def add_to_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, **deltas: int
    ) -> None:
        assert deltas, deltas
        assert set(deltas) <= set(_COUNTERS), deltas
        connection_of(unit).execute(
            update(budget_periods)
            .where(
                budget_periods.c.tenant_id == tenant_id,
                budget_periods.c.budget_id == budget_id,
                budget_periods.c.period == period,
            )
            .values({name: budget_periods.c[name] + delta for name, delta in deltas.items()})
        )

    # The core's accounts and journal, seen from a budget ------------------------------------

    def ensure_account(
        self,
        unit: StorageUnit,
        tenant_id: str,
        account_id: str,
        asset_code: str,
        *,
        no_negative: bool,
        now: datetime,
    ) -> bool:
        """Open the account if it does not exist; True if it was opened now.

        A concurrent twin that opens it first makes the insert collide: the unit is re-run
        (``DuplicateIdError``) and finds it.
        """
        connection = connection_of(unit)
        found = connection.execute(
            select(accounts.c.account_id).where(
                accounts.c.tenant_id == tenant_id, accounts.c.account_id == account_id
            )
        ).first()
        if found is not None:
            return False
        connection.execute(
            insert(accounts).values(
                tenant_id=tenant_id,
                account_id=account_id,
                asset_code=asset_code,
                no_negative=no_negative,
                metadata=None,
                created_at=now,
                updated_at=now,
            )
        )
        return True

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
        if unit is not None:
            rows = connection_of(unit).execute(query).all()
        else:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
        return {r.account_id: (r.credits_posted, r.debits_posted, r.debits_pending) for r in rows}

    def asset_scale(self, unit: StorageUnit, tenant_id: str, code: str) -> int | None:
        row = (
            connection_of(unit)
            .execute(
                select(assets.c.scale).where(assets.c.tenant_id == tenant_id, assets.c.code == code)
            )
            .first()
        )
        return None if row is None else int(row.scale)

    def journal_row(
        self, unit: StorageUnit, tenant_id: str, transfer_id: str
    ) -> EntryRecord | None:
        row = (
            connection_of(unit)
            .execute(_entry_query(tenant_id).where(transfers.c.transfer_id == transfer_id))
            .first()
        )
        return None if row is None else _entry(row)

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

    # Reservations ----------------------------------------------------------------------------

    def get_reservation(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, reference: str
    ) -> ReservationRecord | None:
        query = select(budget_reservations).where(
            budget_reservations.c.tenant_id == tenant_id,
            budget_reservations.c.budget_id == budget_id,
            budget_reservations.c.reference == reference,
        )
        if unit is not None:
            row = connection_of(unit).execute(query).first()
        else:
            with self._engine.connect() as connection:
                row = connection.execute(query).first()
        return None if row is None else _reservation(row)

    def insert_reservation(self, unit: StorageUnit, record: ReservationRecord) -> None:
        connection_of(unit).execute(
            insert(budget_reservations).values(
                tenant_id=record.tenant_id,
                budget_id=record.budget_id,
                reference=record.reference,
                transfer_id=record.transfer_id,
                period=record.period,
                member_key=record.member_key,
                amount_minor=record.amount_minor,
                expires_at=record.expires_at,
                created_at=record.created_at,
            )
        )

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
                .select_from(
                    r.outerjoin(
                        resolved,
                        and_(
                            resolved.c.tenant_id == r.c.tenant_id,
                            resolved.c.pending_id == r.c.transfer_id,
                            resolved.c.error_code.is_(None),
                        ),
                    )
                )
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

    # Alerts ----------------------------------------------------------------------------------

    def insert_alert_if_absent(
        self,
        unit: StorageUnit,
        tenant_id: str,
        budget_id: str,
        period: str,
        due: AlertDue,
        details: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Write the alert unless its key was written in this period; True if written.

        Called under the budget's row lock, so two writers never race for one key.
        """
        connection = connection_of(unit)
        found = connection.execute(
            select(budget_alerts.c.alert_key).where(
                budget_alerts.c.tenant_id == tenant_id,
                budget_alerts.c.budget_id == budget_id,
                budget_alerts.c.period == period,
                budget_alerts.c.alert_key == due.key,
            )
        ).first()
        if found is not None:
            return False
        connection.execute(
            insert(budget_alerts).values(
                tenant_id=tenant_id,
                budget_id=budget_id,
                period=period,
                alert_key=due.key,
                kind=due.kind,
                level=due.level.value,
                threshold_percent=due.threshold_percent,
                details=details,
                created_at=now,
            )
        )
        return True

    def alerts(self, tenant_id: str, budget_id: str | None, limit: int) -> list[AlertRecord]:
        """The newest alerts first."""
        query = (
            select(budget_alerts)
            .where(budget_alerts.c.tenant_id == tenant_id)
            .order_by(budget_alerts.c.created_at.desc(), budget_alerts.c.alert_key)
            .limit(limit)
        )
        if budget_id is not None:
            query = query.where(budget_alerts.c.budget_id == budget_id)
        with self._engine.connect() as connection:
            return [
                AlertRecord(
                    budget_id=row.budget_id,
                    period=row.period,
                    key=row.alert_key,
                    kind=row.kind,
                    level=row.level,
                    threshold_percent=row.threshold_percent,
                    details=dict(row.details),
                    created_at=row.created_at,
                )
                for row in connection.execute(query)
            ]

    # Corrections -----------------------------------------------------------------------------

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
        connection_of(unit).execute(
            insert(budget_corrections).values(
                tenant_id=record.tenant_id,
                transfer_id=record.transfer_id,
                budget_id=record.budget_id,
                period=record.period,
                reverses_id=record.reverses_id,
                amount_minor=record.amount_minor,
                note=record.note,
                actor=record.actor,
                created_at=record.created_at,
            )
        )

    def corrections(self, tenant_id: str, budget_id: str) -> list[CorrectionRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(budget_corrections)
                .where(
                    budget_corrections.c.tenant_id == tenant_id,
                    budget_corrections.c.budget_id == budget_id,
                )
                .order_by(budget_corrections.c.created_at, budget_corrections.c.transfer_id)
            ).all()
        return [
            CorrectionRecord(
                tenant_id=row.tenant_id,
                transfer_id=row.transfer_id,
                budget_id=row.budget_id,
                period=row.period,
                reverses_id=row.reverses_id,
                amount_minor=row.amount_minor,
                note=row.note,
                actor=row.actor,
                created_at=row.created_at,
            )
            for row in rows
        ]

    # Journal reads for reconciliation and reports ------------------------------------------

    def kind_totals(
        self,
        unit: ReadUnit | None,
        tenant_id: str,
        account_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> KindTotals:
        """Totals and counts of the account's accepted journal rows by entry type, from the
        journal alone, optionally within [since, until) of their effective time."""
        t = transfers
        touching = or_(t.c.debit_account_id == account_id, t.c.credit_account_id == account_id)
        query = (
            select(
                t.c.phase,
                t.c.kind,
                t.c.credit_account_id,
                func.count(),
                func.coalesce(func.sum(t.c.amount_minor), 0),
            )
            .where(t.c.tenant_id == tenant_id, t.c.error_code.is_(None), touching)
            .group_by(t.c.phase, t.c.kind, t.c.credit_account_id)
        )
        if since is not None:
            query = query.where(t.c.effective_at >= since)
        if until is not None:
            query = query.where(t.c.effective_at < until)
        with self._reading(unit) as connection:
            rows = connection.execute(query).all()
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
                    .select_from(
                        t.outerjoin(
                            resolved,
                            and_(
                                resolved.c.tenant_id == t.c.tenant_id,
                                resolved.c.pending_id == t.c.transfer_id,
                                resolved.c.error_code.is_(None),
                            ),
                        )
                    )
                    .where(
                        t.c.tenant_id == tenant_id,
                        t.c.debit_account_id == account_id,
                        t.c.phase == "pending",
                        t.c.error_code.is_(None),
                        resolved.c.transfer_id.is_(None),
                    )
                ).scalar_one()
            )

    def entries(
        self,
        tenant_id: str,
        account_ids: Sequence[str],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[EntryRecord]:
        """Accepted journal rows touching the accounts, oldest first, after the keyset
        position ``after`` = (created_at, transfer_id)."""
        t = transfers
        query = (
            _entry_query(tenant_id)
            .where(
                t.c.error_code.is_(None),
                or_(t.c.debit_account_id.in_(account_ids), t.c.credit_account_id.in_(account_ids)),
            )
            .order_by(t.c.created_at, t.c.transfer_id)
            .limit(limit)
        )
        if after is not None:
            created_at, transfer_id = after
            query = query.where(
                or_(
                    t.c.created_at > created_at,
                    and_(t.c.created_at == created_at, t.c.transfer_id > transfer_id),
                )
            )
        with self._engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query)]


def _budget_query(tenant_id: str) -> Any:
    return (
        select(budgets, assets.c.scale)
        .select_from(
            budgets.join(
                assets,
                and_(
                    assets.c.tenant_id == budgets.c.tenant_id, assets.c.code == budgets.c.currency
                ),
            )
        )
        .where(budgets.c.tenant_id == tenant_id)
    )


def _period_query(tenant_id: str, budget_id: str) -> Any:
    return select(budget_periods).where(
        budget_periods.c.tenant_id == tenant_id, budget_periods.c.budget_id == budget_id
    )


def _entry_query(tenant_id: str) -> Any:
    t = transfers
    return select(
        t.c.transfer_id,
        t.c.phase,
        t.c.kind,
        t.c.amount_minor,
        t.c.debit_account_id,
        t.c.credit_account_id,
        t.c.pending_id,
        t.c.effective_at,
        t.c.created_at,
        t.c.metadata,
        t.c.error_code,
    ).where(t.c.tenant_id == tenant_id)


def _policy(row: Row[Any]) -> BudgetPolicy:
    return BudgetPolicy(
        tenant_id=row.tenant_id,
        id=row.budget_id,
        name=row.name,
        currency=row.currency,
        scale=int(row.scale),
        hard_cap_minor=row.hard_cap_minor,
        soft_cap_minor=row.soft_cap_minor,
        thresholds_percent=tuple(int(t) for t in row.thresholds_percent.split(",")),
        period=BudgetPeriod(row.period),
        rollover=bool(row.rollover),
        member_cap_amount_minor=row.member_cap_amount_minor,
        member_cap_count=row.member_cap_count,
        created_at=row.created_at,
    )


def _period(row: Row[Any]) -> PeriodRecord:
    return PeriodRecord(
        budget_id=row.budget_id,
        period=row.period,
        account_id=row.account_id,
        opened_at=row.opened_at,
        funded=row.funded_minor,
        rolled_in=row.rolled_in_minor,
        rolled_out=row.rolled_out_minor,
        reversed_funds=row.reversed_funds_minor,
        reversed_charges=row.reversed_charges_minor,
        reserved_total=row.reserved_total_minor,
        rollovers_count=row.rollovers_count,
    )


def _reservation(row: Row[Any]) -> ReservationRecord:
    return ReservationRecord(
        tenant_id=row.tenant_id,
        budget_id=row.budget_id,
        reference=row.reference,
        transfer_id=row.transfer_id,
        period=row.period,
        member_key=row.member_key,
        amount_minor=row.amount_minor,
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def _entry(row: Row[Any]) -> EntryRecord:
    return EntryRecord(
        transfer_id=row.transfer_id,
        phase=row.phase,
        kind=row.kind,
        amount_minor=row.amount_minor or 0,
        debit_account_id=row.debit_account_id or "",
        credit_account_id=row.credit_account_id or "",
        pending_id=row.pending_id,
        effective_at=row.effective_at,
        created_at=row.created_at,
        metadata=dict(row.metadata or {}),
        refused=row.error_code is not None,
    )
