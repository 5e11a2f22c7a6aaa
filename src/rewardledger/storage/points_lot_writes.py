"""The points store's writes of lots and lot moves, set-based for a batch.

Owns: inserting lots, updating their state and appending lot moves, on the unit's connection
(rule 9). For the few rows of a live use case each statement is kept for the unit's next round
trip (``SqlUnit.later``); from ``SET_ROWS_MIN`` rows on (an import batch) one statement writes
them all. Part of ``SqlPointsStore`` (``storage.points``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy import update as sql_update

from rewardledger.domain.points import Lot, LotState, Move
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.points_context import (
    LOT_INSERT,
    LOT_INSERT_SET,
    LOT_UPDATE,
    LOT_UPDATE_SET,
    MOVE_INSERT,
    MOVE_INSERT_SET,
)
from rewardledger.storage.schema_points import points_lot_moves, points_lots
from rewardledger.storage.unit import SET_ROWS_MIN, unit_of
from rewardledger.storage.write_postgres import PostgresWriteSession

_LOT_NAMES = (
    "tenant_id",
    "lot_id",
    "asset_code",
    "holder_id",
    "reason",
    "amount_minor",
    "remaining_minor",
    "state",
    "deficit",
    "earned_at",
    "activated_at",
    "expires_at",
    "pending_due_at",
)
_MOVE_NAMES = ("tenant_id", "movement_id", "lot_id", "amount_minor", "created_at")
_UPDATE_NAMES = ("b_lot_id", "b_remaining", "b_state", "b_activated_at", "b_expires_at")
_STATE_TEXT = {state: state.value for state in LotState}  # an enum's ``.value`` costs a call


class LotWrites:
    def insert_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None:
        states = _STATE_TEXT
        values = [
            (
                tenant_id,
                lot.lot_id,
                lot.asset_code,
                lot.holder_id,
                lot.reason,
                lot.amount_minor,
                lot.remaining_minor,
                states[lot.state],
                lot.deficit,
                lot.earned_at,
                lot.activated_at,
                lot.expires_at,
                lot.pending_due_at,
            )
            for lot in lots
        ]
        _keep(unit, LOT_INSERT, LOT_INSERT_SET, _LOT_NAMES, values, points_lots)

    def update_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None:
        if not lots:
            return
        states = _STATE_TEXT
        columns: dict[str, list[Any]] = {
            "b_lot_id": [lot.lot_id for lot in lots],
            "b_remaining": [lot.remaining_minor for lot in lots],
            "b_state": [states[lot.state] for lot in lots],
            "b_activated_at": [lot.activated_at for lot in lots],
            "b_expires_at": [lot.expires_at for lot in lots],
        }

        def at_once(connection: Connection) -> object:  # SQLite: built only where it runs
            rows = _mappings(_UPDATE_NAMES, zip(*columns.values(), strict=True))
            return connection.execute(_lot_update(tenant_id), rows)

        sql_unit = unit_of(unit)
        if len(lots) < SET_ROWS_MIN:
            kept = _mappings(_UPDATE_NAMES, zip(*columns.values(), strict=True))
            for row in kept:
                row["b_tenant"] = tenant_id
            sql_unit.later(LOT_UPDATE, kept, at_once)
            return
        sql_unit.write_columns(LOT_UPDATE_SET, columns, at_once, scalars={"b_tenant": tenant_id})

    def insert_moves(
        self, unit: StorageUnit, tenant_id: str, moves: Sequence[Move], now: datetime
    ) -> None:
        """Append (movement id, lot id, signed amount) rows."""
        values = [(tenant_id, m, lot, a, now) for m, lot, a in moves]
        _keep(unit, MOVE_INSERT, MOVE_INSERT_SET, _MOVE_NAMES, values, points_lot_moves)


def _lot_update(tenant_id: str) -> Any:
    """The UPDATE of lots by id (``b_*`` parameters), for SQLite's executemany."""
    return (
        sql_update(points_lots)
        .where(
            points_lots.c.tenant_id == tenant_id,
            points_lots.c.lot_id == bindparam("b_lot_id"),
        )
        .values(
            remaining_minor=bindparam("b_remaining"),
            state=bindparam("b_state"),
            activated_at=bindparam("b_activated_at"),
            expires_at=bindparam("b_expires_at"),
        )
    )


def _keep(
    unit: StorageUnit,
    per_row_sql: str,
    set_sql: str,
    names: Sequence[str],
    values: Sequence[tuple[Any, ...]],
    table: Table,
) -> None:
    """Insert rows (``values`` in ``names`` order): for the few rows of a live use case, one
    statement per row kept for the unit's next round trip; from ``SET_ROWS_MIN`` rows on, one
    statement for all, sent now: a binary COPY on PostgreSQL where the role may (an import
    batch's lots and moves), else one INSERT of ``unnest`` arrays (an ``executemany`` on
    SQLite). The rows stay tuples unless a statement binds them by name."""

    def at_once(connection: Connection) -> object:
        return connection.execute(insert(table), _mappings(names, values))

    sql_unit = unit_of(unit)
    if len(values) < SET_ROWS_MIN:
        sql_unit.later(per_row_sql, _mappings(names, values), at_once)
        return
    if sql_unit.postgres:
        session = sql_unit.session  # sends what the unit kept first: program order
        if isinstance(session, PostgresWriteSession) and session.copy_rows(table, names, values):
            return
    columns = zip(names, zip(*values, strict=True), strict=True)
    sql_unit.write_columns(set_sql, {name: list(column) for name, column in columns}, at_once)


def _mappings(names: Sequence[str], values: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in values]
