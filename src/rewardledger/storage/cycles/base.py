"""SQL storage of the cycles: the plumbing every part of ``SqlCycleStore`` shares.

Owns: the engine and dialect, the dialect's upsert, and turning stored rows into the domain's
values. Protects: an upsert names the table's primary key, so a second write of a key
replaces the first instead of adding a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import fields
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from rewardledger.domain.cycles import (
    CashbackKind,
    CashbackMovement,
    CashbackRow,
    CycleStatus,
    DebtKind,
    DebtMovement,
    DebtRow,
    DebtStatus,
    Eligibility,
)
from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.storage.rows import record_of
from rewardledger.storage.unit import reading

Pair = tuple[str, str]


class CycleSqlBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

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


def between(
    first: ColumnElement[str], second: ColumnElement[str], low: Pair, high: Pair
) -> ColumnElement[bool]:
    if low == high:
        return and_(first == low[0], second == low[1])
    pair = tuple_(first, second)
    return and_(pair >= tuple_(*low), pair <= tuple_(*high))


def cashback_movement_of(row: Row[Any]) -> CashbackMovement:
    return record_of(CashbackMovement, row, id=row.movement_id, kind=CashbackKind(row.kind))


def debt_movement_of(row: Row[Any]) -> DebtMovement:
    return record_of(DebtMovement, row, id=row.movement_id, kind=DebtKind(row.kind))


def movement_values(movement: CashbackMovement | DebtMovement) -> dict[str, Any]:
    """A movement as its table's columns, less the tenant (what ``*_movement_of`` reads back):
    its id is the ``movement_id`` column and its kind is stored by value."""
    values = {field.name: getattr(movement, field.name) for field in fields(movement)}
    del values["id"]
    return {"movement_id": movement.id, **values, "kind": movement.kind.value}


def cashback_row_of(row: Row[Any]) -> CashbackRow:
    return record_of(
        CashbackRow, row, eligibility=Eligibility(row.eligibility), status=CycleStatus(row.status)
    )


def debt_row_of(row: Row[Any]) -> DebtRow:
    return record_of(DebtRow, row, status=DebtStatus(row.status))
