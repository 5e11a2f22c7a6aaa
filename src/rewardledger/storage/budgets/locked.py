"""The few statements of a budget write's fast path: its lock with every read that decides it,
and its own rows with its event, each in one statement.

Owns the row lock of a reserve, charge, release or top-up taken together with the reads that
decide it, and the one write of the budget's own rows that follows the core's. On PostgreSQL a
read in the same statement as a ``FOR UPDATE`` sees the row versions of the statement's
snapshot, except for the locked rows, which it sees as they are once locked. So:

- ``lock_current`` locks the budget row, its current period row and that period's account, in
  this order (``FOR UPDATE OF`` locks in the order it names), so the figures that decide a
  reserve or top-up are current. Every writer of a period's account locks accounts in
  ``account_id`` order, and a period's account (``budget:...``) sorts before the funding and
  issued accounts (``budgets:...``), so this order adds no deadlock. A reservation or journal
  row inserted by a twin after the snapshot is not seen: the twin's transfer id then collides
  in the core's write (``DuplicateIdError``) and the unit runs again, and sees it.
- ``lock_reservation`` locks the budget row and the reservation's period account, and reads the
  reservation's resolution unlocked: if the account's row changed after the snapshot (its
  ``xmin`` differs from the snapshot's version), the resolution may be stale (every resolution
  changes that account in its own transaction) and ``fresh`` is False: the caller reads it again.

On SQLite ``BEGIN IMMEDIATE`` serializes writers already, so every read is current.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    String,
    and_,
    bindparam,
    insert,
    literal_column,
    select,
    true,
)

from rewardledger.domain.budgets import (
    LockedBudget,
    OwnRows,
    Resolution,
    WriteKeys,
    period_account,
    reserve_id,
)
from rewardledger.domain.transfers import PendingRow
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.budgets.base import StoreBase
from rewardledger.storage.budgets.rows import (
    COUNTERS,
    entry_of,
    period_of,
    period_update,
    policy_of,
    record_values,
    reservation_of,
)
from rewardledger.storage.driver_rows import DriverQuery, DriverRow
from rewardledger.storage.rows import record_of
from rewardledger.storage.schema import accounts, assets, outbox, transfers
from rewardledger.storage.schema_budgets import budget_periods, budget_reservations, budgets
from rewardledger.storage.unit import OUTBOX_NAMES, POSTGRES, connection_of, event_row, unit_of
from rewardledger.storage.write_rows import PENDING_COLUMNS

_LOCKED_ACCOUNT = "locked_account"
# The columns of a journal row that ``rows.entry_of`` reads.
_ENTRY_COLUMNS = (
    "transfer_id",
    "phase",
    "kind",
    "amount_minor",
    "debit_account_id",
    "credit_account_id",
    "pending_id",
    "effective_at",
    "created_at",
    "metadata",
    "error_code",
)
_SNAPSHOT_ACCOUNT = "snapshot_account"


class _Part:
    """The columns of one joined table in a row, under their own names (``p_period`` is
    ``period``), so the row mappings of ``rows`` read it as a row of that table."""

    def __init__(self, row: Row[Any], prefix: str) -> None:
        self._mapping = {
            key[len(prefix) :]: value
            for key, value in row._mapping.items()
            if isinstance(key, str) and key.startswith(prefix)
        }

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


def _labelled(table: Any, prefix: str) -> list[Any]:
    return [column.label(prefix + column.name) for column in table.c]


def _part(row: Any, prefix: str) -> Any:
    return row.part(prefix) if isinstance(row, DriverRow) else _Part(row, prefix)


@functools.cache
def _driver_query(query: Any) -> DriverQuery:
    """A PostgreSQL lock statement compiled once, run on the unit's driver connection."""
    return DriverQuery(query, POSTGRES, ("p_", "r_", "e_", "h_"))


def _keyed(left: Any, right: Any, *names: str) -> ColumnElement[bool]:
    """The join condition: ``left`` and ``right`` agree on the columns ``names``."""
    return and_(*(left.c[name] == right.c[name] for name in names))


def _pending_row(part: Any) -> PendingRow:
    """A pending journal row read with the lock (columns ``PENDING_COLUMNS``)."""
    return record_of(PendingRow, part, id=part.transfer_id)


def _scale() -> Any:
    """The scale of the budget's currency, as a scalar subquery: planned apart from the join,
    which keeps the planner's search (paid on every call) small."""
    return (
        select(assets.c.scale)
        .where(assets.c.tenant_id == budgets.c.tenant_id, assets.c.code == budgets.c.currency)
        .scalar_subquery()
        .label("scale")
    )


def _param(name: str) -> BindParameter[str]:
    return bindparam(name, type_=String)


def _reservation_of(r: Any = budget_reservations) -> ColumnElement[bool]:
    return and_(
        r.c.tenant_id == _param("tenant"),
        r.c.budget_id == _param("budget"),
        r.c.reference == _param("reference"),
    )


def _period_account(period: Any) -> Any:
    """The account of ``period``, named as ``open_period`` names it (``prefix`` is
    ``period_account(budget_id, "")``)."""
    return bindparam("prefix", type_=String) + period


@functools.cache
def _current_query(reference: bool, transfer: bool, postgres: bool) -> Any:
    """The statement of ``lock_current``, built once per shape (its values are parameters).

    Every table is reached by its key from the parameters (the current period's account
    through a subquery run once), whatever join order the planner picks."""
    b, p, a = budgets, budget_periods, accounts
    r, e = budget_reservations, transfers.alias("keyed")
    named = budgets.alias("named")
    tenant, budget = _param("tenant"), _param("budget")
    current_account = (
        select(_period_account(named.c.current_period))
        .where(named.c.tenant_id == tenant, named.c.budget_id == budget)
        .scalar_subquery()
    )
    joined = b.join(
        p, and_(p.c.tenant_id == tenant, p.c.budget_id == budget, p.c.period == b.c.current_period)
    ).join(a, and_(a.c.tenant_id == tenant, a.c.account_id == current_account))
    columns = [b, _scale(), *_labelled(p, "p_"), *_totals(a)]
    if reference:
        joined = joined.outerjoin(r, _reservation_of())
        columns += _labelled(r, "r_")
    if transfer:
        joined = joined.outerjoin(
            e, and_(e.c.tenant_id == tenant, e.c.transfer_id == _param("transfer"))
        )
        columns += [e.c[name].label("e_" + name) for name in _ENTRY_COLUMNS]
    query = (
        select(*columns).select_from(joined).where(b.c.tenant_id == tenant, b.c.budget_id == budget)
    )
    return query.with_for_update(of=[b, p, a]) if postgres else query


def _totals(a: Any) -> list[Any]:
    return [a.c.credits_posted, a.c.debits_posted, a.c.debits_pending]


@functools.cache
def _reservation_query(postgres: bool) -> Any:
    """The statement of ``lock_reservation``, built once (its values are parameters).

    Every table is reached by its key from the parameters (the reservation's period account
    through a subquery run once, its pending transfer by its derived id), whatever join order
    the planner picks."""
    b, r = budgets, budget_reservations
    named = budget_reservations.alias("named")
    tenant = _param("tenant")
    account = select(_period_account(named.c.period)).where(_reservation_of(named))
    account_id = account.scalar_subquery()
    locked = accounts.alias(_LOCKED_ACCOUNT)
    seen = accounts.alias(_SNAPSHOT_ACCOUNT)
    resolved = transfers.alias("resolved")
    joined = (
        b.join(r, _reservation_of())
        .join(locked, and_(locked.c.tenant_id == tenant, locked.c.account_id == account_id))
        .outerjoin(
            resolved,
            and_(
                resolved.c.tenant_id == tenant,
                resolved.c.pending_id == _param("pending"),
                resolved.c.error_code.is_(None),
            ),
        )
    )
    fresh: Any = true().label("fresh")
    pending: list[Any] = []
    if postgres:
        joined = joined.join(
            seen, and_(seen.c.tenant_id == tenant, seen.c.account_id == account_id)
        )
        fresh = (
            literal_column(f"{_LOCKED_ACCOUNT}.xmin") == literal_column(f"{_SNAPSHOT_ACCOUNT}.xmin")
        ).label("fresh")
        # The reserve's pending journal row, for the core's write (``SqlUnit.know_pending``).
        held = transfers.alias("held")
        joined = joined.outerjoin(
            held,
            and_(
                held.c.tenant_id == tenant,
                held.c.transfer_id == _param("pending"),
                held.c.phase == "pending",
                held.c.error_code.is_(None),
            ),
        )
        pending = [held.c[name].label("h_" + name) for name in PENDING_COLUMNS]
    query = (
        select(
            b,
            _scale(),
            *_labelled(r, "r_"),
            resolved.c.transfer_id.label("s_transfer_id"),
            resolved.c.phase.label("s_phase"),
            resolved.c.amount_minor.label("s_amount_minor"),
            fresh,
            *pending,
        )
        .select_from(joined)
        .where(b.c.tenant_id == tenant, b.c.budget_id == _param("budget"))
    )
    return query.with_for_update(of=[b, locked]) if postgres else query


class LockedStatements(StoreBase):
    """The fast path's statements (part of ``SqlBudgetStore``)."""

    def _first(self, unit: StorageUnit, query: Any, values: dict[str, Any]) -> Any:
        """The lock statement's row: on PostgreSQL through the unit's driver connection."""
        if self._postgres:
            return _driver_query(query).first(unit, values)
        return connection_of(unit).execute(query, values).first()

    def lock_current(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, keys: WriteKeys
    ) -> LockedBudget | None:
        """The budget, its current period and that period's account totals, all three rows
        locked; with ``keys.reference`` its reservation, with ``keys.transfer_id`` that
        journal row. None when the budget or its current period does not exist (then lock
        and read them one by one)."""
        reference, transfer_id = keys.reference, keys.transfer_id
        query = _current_query(reference is not None, transfer_id is not None, self._postgres)
        values: dict[str, Any] = {
            "tenant": tenant_id,
            "budget": budget_id,
            "prefix": period_account(budget_id, ""),
        }
        if reference is not None:
            values["reference"] = reference
        if transfer_id is not None:
            values["transfer"] = transfer_id
        row = self._first(unit, query, values)
        if row is None:
            return None
        reservation = None
        if reference is not None and row.r_reference is not None:
            reservation = reservation_of(_part(row, "r_"))
        entry = None
        if transfer_id is not None and row.e_transfer_id is not None:
            entry = entry_of(_part(row, "e_"))
        return LockedBudget(
            policy=policy_of(row),
            period=period_of(_part(row, "p_")),
            totals=(row.credits_posted, row.debits_posted, row.debits_pending),
            reservation=reservation,
            entry=entry,
        )

    def lock_reservation(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, reference: str
    ) -> LockedBudget | None:
        """The budget (locked), the reservation ``reference``, its period's account (locked)
        and the reservation's resolution; None when the budget or the reservation does not
        exist (then lock and read them one by one)."""
        pending = reserve_id(budget_id, reference)
        values = {
            "tenant": tenant_id,
            "budget": budget_id,
            "reference": reference,
            "prefix": period_account(budget_id, ""),
            "pending": pending,
        }
        query = _reservation_query(self._postgres)
        row = self._first(unit, query, values)
        if row is None:
            return None
        resolution = None
        if row.s_transfer_id is not None:
            resolution = Resolution(row.s_transfer_id, row.s_phase, row.s_amount_minor)
        reservation = reservation_of(_part(row, "r_"))
        if self._postgres and row.h_transfer_id is not None:
            unit_of(unit).know_pending([_pending_row(_part(row, "h_"))])
        return LockedBudget(
            policy=policy_of(row),
            reservation=reservation,
            resolution=resolution,
            # The resolution was looked up by the id a reserve derives; else read it again.
            fresh=bool(row.fresh) and reservation.transfer_id == pending,
        )

    def write_own_rows(self, unit: StorageUnit, own: OwnRows) -> None:
        """Add ``own.deltas`` to the period's counters, insert ``own.reservation`` and write
        ``own.events`` to the outbox: on PostgreSQL one statement (data-modifying CTEs), kept
        to ride with the unit's next statement or its COMMIT (``SqlUnit.later``); a
        reservation's reference taken by a twin is a ``DuplicateIdError`` then, and the unit
        runs again."""
        tenant_id, budget_id, period = own.tenant_id, own.budget_id, own.period
        deltas, reservation = own.deltas, own.reservation
        assert deltas, deltas
        assert set(deltas) <= set(COUNTERS), deltas
        rows = [event_row(tenant_id, e, own.now) for e in own.events]
        p = budget_periods

        def at_once(connection: Connection) -> None:
            added = {name: p.c[name] + delta for name, delta in deltas.items()}
            change = period_update(tenant_id, budget_id, period).values(added)
            if reservation is not None:
                connection.execute(insert(budget_reservations).values(record_values(reservation)))
            if rows:
                connection.execute(insert(outbox), rows)
            connection.execute(change)

        values: dict[str, Any] = {"tenant": tenant_id, "budget": budget_id, "period": period}
        values.update((f"d_{name}", delta) for name, delta in deltas.items())
        if reservation is not None:
            values.update((f"r_{k}", v) for k, v in record_values(reservation).items())
        for n, row in enumerate(rows):
            values.update((f"e{n}_{k}", v) for k, v in row.items())
            payload = row["payload"]
            values[f"e{n}_payload"] = None if payload is None else Jsonb(payload)
        sql = _own_rows_sql(tuple(sorted(deltas)), reservation is not None, len(rows))
        unit_of(unit).later(sql, [values], at_once)


@functools.cache
def _own_rows_sql(counters: tuple[str, ...], reservation: bool, events: int) -> str:
    """PostgreSQL text of ``write_own_rows`` for one shape (psycopg ``%(name)s`` parameters)."""

    def inserted(table: Any, prefix: str, names: Sequence[str]) -> str:
        values = ", ".join(f"%({prefix}{name})s" for name in names)
        return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({values})"  # noqa: S608

    reserved = [column.name for column in budget_reservations.c]
    parts = []
    if reservation:
        parts.append(f"written_r AS ({inserted(budget_reservations, 'r_', reserved)})")
    parts += [f"written_{n} AS ({inserted(outbox, f'e{n}_', OUTBOX_NAMES)})" for n in range(events)]
    counted = ", ".join(f"{name} = {name} + %(d_{name})s" for name in counters)
    change = (
        f"UPDATE budget_periods SET {counted} WHERE tenant_id = %(tenant)s "  # noqa: S608
        "AND budget_id = %(budget)s AND period = %(period)s"
    )
    return ("WITH " + ", ".join(parts) + " " if parts else "") + change
