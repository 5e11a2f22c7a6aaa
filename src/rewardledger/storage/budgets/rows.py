"""Rows of the budget tables: the shared queries and the row <-> record mappings.

Owns how a budget's records are read from and written to their tables (the column names are
the records' field names, except a policy's, whose thresholds are stored as "80,95"), and the
one join that tells whether a pending transfer was resolved (a post, void or expire that was
not refused).
"""

from __future__ import annotations

import functools
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Row, Table, and_, insert, select, update

from rewardledger.domain.budgets import (
    AlertRecord,
    BudgetFunding,
    BudgetPeriod,
    BudgetPolicy,
    CorrectionRecord,
    EntryRecord,
    PeriodRecord,
    ReservationRecord,
)
from rewardledger.storage.rows import record_of
from rewardledger.storage.schema import assets, transfers
from rewardledger.storage.schema_budgets import budget_periods, budgets

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Record = TypeVar("Record", bound=DataclassInstance)
else:
    Record = TypeVar("Record")

# The period counters a use case may add to (``add_to_period``).
COUNTERS = (
    "funded_minor",
    "rolled_in_minor",
    "rolled_out_minor",
    "reversed_funds_minor",
    "reversed_charges_minor",
    "reserved_total_minor",
    "rollovers_count",
)


def resolves(resolved: Any, pending: Any) -> ColumnElement[bool]:
    """The join condition: ``resolved`` (an alias of transfers) accepted resolution of the
    pending transfer whose columns are ``pending`` (``transfer_id``, ``tenant_id``)."""
    return and_(
        resolved.c.tenant_id == pending.tenant_id,
        resolved.c.pending_id == pending.transfer_id,
        resolved.c.error_code.is_(None),
    )


def insert_unless_found(
    connection: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]
) -> bool:
    """Insert the row ``key`` + ``values`` unless a row with ``key`` exists; True if inserted.
    Callers hold the lock (or rely on the key's unique index) that keeps a twin out between."""
    column = table.c[next(iter(key))]
    found = connection.execute(
        select(column).where(*(table.c[name] == value for name, value in key.items()))
    ).first()
    if found is not None:
        return False
    connection.execute(insert(table).values({**key, **values}))
    return True


def record_values(record: DataclassInstance) -> dict[str, Any]:
    """The row of a record whose fields are its table's column names (its values as they are:
    a statement's parameters, never changed, so not copied as ``dataclasses.asdict`` would)."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


@functools.cache
def _field_names(record_type: type[Any]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(record_type))


def budget_query(tenant_id: str) -> Any:
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


def period_query(tenant_id: str, budget_id: str) -> Any:
    return select(budget_periods).where(
        budget_periods.c.tenant_id == tenant_id, budget_periods.c.budget_id == budget_id
    )


def period_update(tenant_id: str, budget_id: str, period: str) -> Any:
    """An UPDATE of one (budget, period) row, its values still to set."""
    p = budget_periods
    return update(p).where(
        p.c.tenant_id == tenant_id, p.c.budget_id == budget_id, p.c.period == period
    )


def entry_query(tenant_id: str) -> Any:
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


def policy_of(row: Row[Any]) -> BudgetPolicy:
    return record_of(
        BudgetPolicy,
        row,
        id=row.budget_id,
        scale=int(row.scale),
        thresholds_percent=tuple(int(t) for t in row.thresholds_percent.split(",")),
        period=BudgetPeriod(row.period),
        rollover=bool(row.rollover),
        funding=BudgetFunding(row.funding),
    )


def period_of(row: Row[Any]) -> PeriodRecord:
    return record_of(PeriodRecord, row, suffix="_minor")


def entry_of(row: Row[Any]) -> EntryRecord:
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


def alert_of(row: Row[Any]) -> AlertRecord:
    return record_of(AlertRecord, row, key=row.alert_key, details=dict(row.details))


def reservation_of(row: Row[Any]) -> ReservationRecord:
    return record_of(ReservationRecord, row)


def correction_of(row: Row[Any]) -> CorrectionRecord:
    return record_of(CorrectionRecord, row)
