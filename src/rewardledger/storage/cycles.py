"""SQL storage of the cashback and debt cycles (implements ``services.cycles.CycleStore``).

Owns: the statements on the tables of ``schema_cycles``. Protects:
- the cap check of an accrual: ``mark_dirty`` is an upsert, so on PostgreSQL it locks the
  (account, cycle) pair until commit; concurrent accruals on one pair queue behind it, and the
  totals read after it include every accrual committed before (SQLite: one writer at a time);
- late commits are never lost: ``take_dirty`` locks the marks it returns (skipping marks an
  in-flight writer holds) and ``clear_dirty`` deletes a mark only if its token is still the one
  read, so a mark set again by a writer survives for the next refresh;
- ``lock_projection`` lets a rebuild batch exclude refreshes (PostgreSQL advisory lock; shared
  for refreshes, exclusive for rebuilds) so that a rebuild never writes over a fresher row.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    case,
    delete,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from rewardledger.domain.cycles import (
    CashbackAccountSettings,
    CashbackKind,
    CashbackMovement,
    CashbackProgram,
    CashbackRow,
    CashbackTotals,
    CycleStatus,
    DebtKind,
    DebtMovement,
    DebtProgram,
    DebtRow,
    DebtStatus,
    DebtTotals,
    DirtyMark,
    Eligibility,
    LedgerFilter,
    LedgerName,
    RefreshMode,
    row_id,
)
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.schema_cycles import (
    cashback_accounts,
    cashback_ledger,
    cashback_movements,
    cashback_programs,
    cycle_dirty,
    cycle_settings,
    debt_ledger,
    debt_movements,
    debt_programs,
)
from rewardledger.storage.unit import connection_of, reading

Pair = tuple[str, str]


class SqlCycleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    # Plumbing --------------------------------------------------------------------------------

    def _reading(self, unit: ReadUnit | None) -> AbstractContextManager[Connection]:
        return reading(self.engine, unit)

    def _insert(self, table: Any) -> Any:
        return postgresql.insert(table) if self.postgres else sqlite.insert(table)

    def _upsert(self, connection: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        keys = [column.name for column in table.primary_key.columns]
        statement = self._insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in rows[0] if name not in set(keys)},
        )
        connection.execute(statement, list(rows))

    # Settings and programmes ---------------------------------------------------------------

    def get_refresh_mode(self, tenant_id: str, unit: ReadUnit | None = None) -> RefreshMode:
        with self._reading(unit) as connection:
            mode = connection.scalar(
                select(cycle_settings.c.refresh_mode).where(cycle_settings.c.tenant_id == tenant_id)
            )
        return RefreshMode(mode) if mode is not None else RefreshMode.JOB

    def put_refresh_mode(self, unit: StorageUnit, mode: RefreshMode, now: datetime) -> None:
        connection = connection_of(unit)
        tenant_id = unit.tenant_id
        self._upsert(
            connection,
            cycle_settings,
            [{"tenant_id": tenant_id, "refresh_mode": mode.value, "updated_at": now}],
        )

    def get_cashback_program(
        self, tenant_id: str, unit: ReadUnit | None = None
    ) -> CashbackProgram | None:
        with self._reading(unit) as connection:
            row = connection.execute(
                select(cashback_programs).where(cashback_programs.c.tenant_id == tenant_id)
            ).first()
        if row is None:
            return None
        return CashbackProgram(
            row.currency, row.minimum_spend_minor, row.default_cap_minor, row.grace_days
        )

    def put_cashback_program(
        self, unit: StorageUnit, program: CashbackProgram, now: datetime
    ) -> None:
        self._upsert(
            connection_of(unit),
            cashback_programs,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "currency": program.currency,
                    "minimum_spend_minor": program.minimum_spend_minor,
                    "default_cap_minor": program.default_cap_minor,
                    "grace_days": program.grace_days,
                    "updated_at": now,
                }
            ],
        )

    def get_cashback_account(
        self, tenant_id: str, account_id: str, unit: ReadUnit | None = None
    ) -> CashbackAccountSettings | None:
        with self._reading(unit) as connection:
            row = connection.execute(
                select(cashback_accounts).where(
                    cashback_accounts.c.tenant_id == tenant_id,
                    cashback_accounts.c.account_id == account_id,
                )
            ).first()
        if row is None:
            return None
        return CashbackAccountSettings(row.account_id, row.default_cap_minor, row.enrolled)

    def put_cashback_account(
        self, unit: StorageUnit, settings: CashbackAccountSettings, now: datetime
    ) -> None:
        self._upsert(
            connection_of(unit),
            cashback_accounts,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "account_id": settings.account_id,
                    "default_cap_minor": settings.default_cap_minor,
                    "enrolled": settings.enrolled,
                    "updated_at": now,
                }
            ],
        )

    def get_debt_program(self, tenant_id: str, unit: ReadUnit | None = None) -> DebtProgram | None:
        with self._reading(unit) as connection:
            row = connection.execute(
                select(debt_programs).where(debt_programs.c.tenant_id == tenant_id)
            ).first()
        if row is None:
            return None
        return DebtProgram(row.currency, row.closing_day, row.due_day, row.grace_days)

    def put_debt_program(self, unit: StorageUnit, program: DebtProgram, now: datetime) -> None:
        self._upsert(
            connection_of(unit),
            debt_programs,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "currency": program.currency,
                    "closing_day": program.closing_day,
                    "due_day": program.due_day,
                    "grace_days": program.grace_days,
                    "updated_at": now,
                }
            ],
        )

    # Dirty marks -------------------------------------------------------------------------------

    def mark_dirty(
        self, unit: StorageUnit, ledger: LedgerName, holder_id: str, tag: str
    ) -> DirtyMark:
        """Mark (holder, cycle) dirty with a fresh token. On PostgreSQL the upsert also locks
        the pair until commit: it is the lock under which an accrual checks its cap."""
        token = secrets.token_hex(16)
        self._upsert(
            connection_of(unit),
            cycle_dirty,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "ledger": ledger.value,
                    "holder_id": holder_id,
                    "cycle_tag": tag,
                    "token": token,
                }
            ],
        )
        return DirtyMark(ledger, holder_id, tag, token)

    def take_dirty(self, unit: StorageUnit, limit: int) -> list[DirtyMark]:
        query = (
            select(cycle_dirty)
            .where(cycle_dirty.c.tenant_id == unit.tenant_id)
            .order_by(cycle_dirty.c.ledger, cycle_dirty.c.holder_id, cycle_dirty.c.cycle_tag)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            DirtyMark(LedgerName(row.ledger), row.holder_id, row.cycle_tag, row.token)
            for row in connection_of(unit).execute(query)
        ]

    def clear_dirty(self, unit: StorageUnit, mark: DirtyMark) -> None:
        """Delete the mark only if it still has the token read: a mark a writer set again
        since (a late commit) survives for the next refresh."""
        connection_of(unit).execute(
            delete(cycle_dirty).where(
                cycle_dirty.c.tenant_id == unit.tenant_id,
                cycle_dirty.c.ledger == mark.ledger.value,
                cycle_dirty.c.holder_id == mark.holder_id,
                cycle_dirty.c.cycle_tag == mark.cycle_tag,
                cycle_dirty.c.token == mark.token,
            )
        )

    def count_dirty(self, tenant_id: str) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.scalar(select(func.count()).where(cycle_dirty.c.tenant_id == tenant_id))
                or 0
            )

    def mark_due(
        self, unit: StorageUnit, closing_tags: Sequence[str], overdue_before: datetime
    ) -> int:
        """Mark dirty the open cashback rows of ``closing_tags`` (cycles now past their grace)
        and the unpaid debt rows due before ``overdue_before``; return how many."""
        token = (
            func.lower(func.hex(func.randomblob(16)))
            if not self.postgres
            else func.md5(func.random().cast(postgresql.TEXT))
        )
        marked = 0
        sources = []
        if closing_tags:
            sources.append(
                select(
                    cashback_ledger.c.tenant_id,
                    literal(LedgerName.CASHBACK.value),
                    cashback_ledger.c.account_id,
                    cashback_ledger.c.cycle_tag,
                    token,
                ).where(
                    cashback_ledger.c.tenant_id == unit.tenant_id,
                    cashback_ledger.c.status == CycleStatus.OPEN.value,
                    cashback_ledger.c.cycle_tag.in_(list(closing_tags)),
                )
            )
        sources.append(
            select(
                debt_ledger.c.tenant_id,
                literal(LedgerName.DEBT.value),
                debt_ledger.c.person_id,
                debt_ledger.c.cycle_tag,
                token,
            ).where(
                debt_ledger.c.tenant_id == unit.tenant_id,
                debt_ledger.c.status.in_([DebtStatus.OPEN.value, DebtStatus.PARTIAL.value]),
                debt_ledger.c.net_debt_minor > 0,
                debt_ledger.c.due_at <= overdue_before,
            )
        )
        for source in sources:
            statement = self._insert(cycle_dirty).from_select(
                ["tenant_id", "ledger", "holder_id", "cycle_tag", "token"], source
            )
            if self.postgres:
                statement = statement.on_conflict_do_nothing()
            else:
                statement = statement.prefix_with("OR IGNORE")
            marked += connection_of(unit).execute(statement).rowcount
        return marked

    def open_cashback_tags(self, tenant_id: str, unit: StorageUnit) -> list[str]:
        connection = connection_of(unit)
        return list(
            connection.scalars(
                select(cashback_ledger.c.cycle_tag)
                .where(
                    cashback_ledger.c.tenant_id == tenant_id,
                    cashback_ledger.c.status == CycleStatus.OPEN.value,
                )
                .distinct()
            )
        )

    def lock_projection(self, unit: StorageUnit, *, exclusive: bool) -> None:
        if not self.postgres:
            return  # SQLite: the unit already holds the only write lock
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        connection_of(unit).exec_driver_sql(
            f"SELECT {function}(hashtext('rewardledger.cycles'), hashtext(%(tenant)s))",
            {"tenant": unit.tenant_id},
        )

    # Movements ---------------------------------------------------------------------------------

    def get_cashback_movement(self, unit: StorageUnit, movement_id: str) -> CashbackMovement | None:
        row = (
            connection_of(unit)
            .execute(
                select(cashback_movements).where(
                    cashback_movements.c.tenant_id == unit.tenant_id,
                    cashback_movements.c.movement_id == movement_id,
                )
            )
            .first()
        )
        return _cashback_movement(row) if row is not None else None

    def insert_cashback_movement(self, unit: StorageUnit, movement: CashbackMovement) -> None:
        connection_of(unit).execute(
            cashback_movements.insert(),
            [
                {
                    "tenant_id": unit.tenant_id,
                    "movement_id": movement.id,
                    "account_id": movement.account_id,
                    "cycle_tag": movement.cycle_tag,
                    "kind": movement.kind.value,
                    "spend_minor": movement.spend_minor,
                    "requested_minor": movement.requested_minor,
                    "cashback_minor": movement.cashback_minor,
                    "budget_cap_minor": movement.budget_cap_minor,
                    "override": movement.override,
                    "reverses_id": movement.reverses_id,
                    "transfer_id": movement.transfer_id,
                    "occurred_at": movement.occurred_at,
                    "recorded_at": movement.recorded_at,
                }
            ],
        )

    def get_debt_movement(self, unit: StorageUnit, movement_id: str) -> DebtMovement | None:
        row = (
            connection_of(unit)
            .execute(
                select(debt_movements).where(
                    debt_movements.c.tenant_id == unit.tenant_id,
                    debt_movements.c.movement_id == movement_id,
                )
            )
            .first()
        )
        return _debt_movement(row) if row is not None else None

    def insert_debt_movement(self, unit: StorageUnit, movement: DebtMovement) -> None:
        connection_of(unit).execute(
            debt_movements.insert(),
            [
                {
                    "tenant_id": unit.tenant_id,
                    "movement_id": movement.id,
                    "person_id": movement.person_id,
                    "cycle_tag": movement.cycle_tag,
                    "kind": movement.kind.value,
                    "amount_minor": movement.amount_minor,
                    "due_at": movement.due_at,
                    "transfer_id": movement.transfer_id,
                    "occurred_at": movement.occurred_at,
                    "recorded_at": movement.recorded_at,
                }
            ],
        )

    # Totals ------------------------------------------------------------------------------------

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
                _between(m.account_id, m.cycle_tag, low, high),
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
        m = cashback_movements.c
        query = self._cashback_totals_query(unit.tenant_id)
        if after is not None:
            query = query.where(tuple_(m.account_id, m.cycle_tag) > tuple_(*after))
        rows = (
            connection_of(unit)
            .execute(
                query.group_by(m.account_id, m.cycle_tag)
                .order_by(m.account_id, m.cycle_tag)
                .limit(limit)
            )
            .all()
        )
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

    def cashback_accounts_settings(
        self, unit: StorageUnit, account_ids: Sequence[str]
    ) -> dict[str, CashbackAccountSettings]:
        if not account_ids:
            return {}
        rows = connection_of(unit).execute(
            select(cashback_accounts).where(
                cashback_accounts.c.tenant_id == unit.tenant_id,
                cashback_accounts.c.account_id.in_(sorted(set(account_ids))),
            )
        )
        return {
            row.account_id: CashbackAccountSettings(
                row.account_id, row.default_cap_minor, row.enrolled
            )
            for row in rows
        }

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
        m = debt_movements.c
        query = self._debt_totals_query(unit.tenant_id)
        if after is not None:
            query = query.where(tuple_(m.person_id, m.cycle_tag) > tuple_(*after))
        rows = (
            connection_of(unit)
            .execute(
                query.group_by(m.person_id, m.cycle_tag)
                .order_by(m.person_id, m.cycle_tag)
                .limit(limit)
            )
            .all()
        )
        return [(row.person_id, row.cycle_tag, self._debt_totals(row)) for row in rows]

    def cashback_cycles_of(self, unit: StorageUnit, account_id: str) -> list[str]:
        """Every cycle in which the account has cashback movements."""
        m = cashback_movements.c
        return list(
            connection_of(unit).scalars(
                select(m.cycle_tag)
                .where(m.tenant_id == unit.tenant_id, m.account_id == account_id)
                .distinct()
                .order_by(m.cycle_tag)
            )
        )

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

    def next_debt_cycle(self, unit: StorageUnit, person_id: str, tag: str) -> str | None:
        """The person's first cycle after ``tag`` that has movements (it carries ``tag``'s net)."""
        m = debt_movements.c
        return cast(
            str | None,
            connection_of(unit).scalar(
                select(func.min(m.cycle_tag)).where(
                    m.tenant_id == unit.tenant_id, m.person_id == person_id, m.cycle_tag > tag
                )
            ),
        )

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

    # Ledger rows -------------------------------------------------------------------------------

    def cashback_rows(
        self, unit: ReadUnit | None, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, CashbackRow]:
        """The stored rows whose key is from ``low`` to ``high`` (inclusive)."""
        c = cashback_ledger.c
        with self._reading(unit) as connection:
            rows = connection.execute(
                select(cashback_ledger).where(
                    c.tenant_id == tenant_id, _between(c.account_id, c.cycle_tag, low, high)
                )
            )
            return {(row.account_id, row.cycle_tag): _cashback_row(row) for row in rows}

    def debt_rows(
        self, unit: ReadUnit | None, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, DebtRow]:
        """The stored rows whose key is from ``low`` to ``high`` (inclusive)."""
        d = debt_ledger.c
        with self._reading(unit) as connection:
            rows = connection.execute(
                select(debt_ledger).where(
                    d.tenant_id == tenant_id, _between(d.person_id, d.cycle_tag, low, high)
                )
            )
            return {(row.person_id, row.cycle_tag): _debt_row(row) for row in rows}

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
        conditions: list[ColumnElement[bool]] = [c.tenant_id == tenant_id]
        if where.holder_id is not None:
            conditions.append(c.account_id == where.holder_id)
        if where.cycle_tag is not None:
            conditions.append(c.cycle_tag == where.cycle_tag)
        if where.status is not None:
            conditions.append(c.status == where.status)
        if where.eligibility is not None:
            conditions.append(c.eligibility == where.eligibility)
        if after is not None:
            conditions.append(tuple_(c.account_id, c.cycle_tag) > tuple_(*after))
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(cashback_ledger)
                .where(and_(*conditions))
                .order_by(c.account_id, c.cycle_tag)
                .limit(limit)
            )
            return [(_cashback_row(row), row.last_updated) for row in rows]

    def list_debt_rows(
        self, tenant_id: str, where: LedgerFilter, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[DebtRow, datetime]]:
        d = debt_ledger.c
        conditions: list[ColumnElement[bool]] = [d.tenant_id == tenant_id]
        if where.holder_id is not None:
            conditions.append(d.person_id == where.holder_id)
        if where.cycle_tag is not None:
            conditions.append(d.cycle_tag == where.cycle_tag)
        if where.status is not None:
            conditions.append(d.status == where.status)
        if after is not None:
            conditions.append(tuple_(d.person_id, d.cycle_tag) > tuple_(*after))
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(debt_ledger)
                .where(and_(*conditions))
                .order_by(d.person_id, d.cycle_tag)
                .limit(limit)
            )
            return [(_debt_row(row), row.last_updated) for row in rows]


def _between(
    first: ColumnElement[str], second: ColumnElement[str], low: Pair, high: Pair
) -> ColumnElement[bool]:
    if low == high:
        return and_(first == low[0], second == low[1])
    pair = tuple_(first, second)
    return and_(pair >= tuple_(*low), pair <= tuple_(*high))


def _cashback_movement(row: Row[Any]) -> CashbackMovement:
    return CashbackMovement(
        id=row.movement_id,
        account_id=row.account_id,
        cycle_tag=row.cycle_tag,
        kind=CashbackKind(row.kind),
        spend_minor=row.spend_minor,
        requested_minor=row.requested_minor,
        cashback_minor=row.cashback_minor,
        budget_cap_minor=row.budget_cap_minor,
        override=row.override,
        reverses_id=row.reverses_id,
        transfer_id=row.transfer_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
    )


def _debt_movement(row: Row[Any]) -> DebtMovement:
    return DebtMovement(
        id=row.movement_id,
        person_id=row.person_id,
        cycle_tag=row.cycle_tag,
        kind=DebtKind(row.kind),
        amount_minor=row.amount_minor,
        due_at=row.due_at,
        transfer_id=row.transfer_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
    )


def _cashback_row(row: Row[Any]) -> CashbackRow:
    return CashbackRow(
        row.account_id,
        row.cycle_tag,
        row.total_spend_minor,
        row.total_cashback_minor,
        row.budget_cap_minor,
        Eligibility(row.eligibility),
        row.remaining_budget_minor,
        CycleStatus(row.status),
        row.notes,
    )


def _debt_row(row: Row[Any]) -> DebtRow:
    return DebtRow(
        row.person_id,
        row.cycle_tag,
        row.initial_debt_minor,
        row.new_debt_minor,
        row.repayments_minor,
        row.debt_discount_minor,
        row.net_debt_minor,
        DebtStatus(row.status),
        row.due_at,
        row.notes,
    )
