"""The points store's writes of lots and lot moves, set-based for a batch.

Owns: inserting lots, updating their state and appending lot moves, on the unit's connection
(rule 9). For the few rows of a live use case each statement is kept for the unit's next round
trip (``SqlUnit.later``); from ``SET_ROWS_MIN`` rows on (an import batch) one statement writes
them all. Part of ``SqlPointsStore`` (``storage.points``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy import update as sql_update

from rewardledger.domain.points import Lot, Move
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


class LotWrites:
    def insert_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None:
        rows = [_lot_row(tenant_id, lot) for lot in lots]
        _keep(
            unit,
            LOT_INSERT,
            LOT_INSERT_SET,
            rows,
            lambda c: c.execute(insert(points_lots), rows),
            points_lots,
        )

    def update_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None:
        if not lots:
            return
        rows = [
            {
                "b_lot_id": lot.lot_id,
                "b_remaining": lot.remaining_minor,
                "b_state": lot.state.value,
                "b_activated_at": lot.activated_at,
                "b_expires_at": lot.expires_at,
            }
            for lot in lots
        ]
        sql_unit = unit_of(unit)

        def at_once(connection: Connection) -> None:  # SQLite: built only where it runs
            connection.execute(_lot_update(tenant_id), rows)

        if len(rows) < SET_ROWS_MIN:
            kept = [{**row, "b_tenant": tenant_id} for row in rows]
            sql_unit.later(LOT_UPDATE, kept, at_once)
            return
        columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in rows[0]}
        sql_unit.write_columns(
            LOT_UPDATE_SET,
            columns,
            at_once,
            scalars={"b_tenant": tenant_id},
        )

    def insert_moves(
        self, unit: StorageUnit, tenant_id: str, moves: Sequence[Move], now: datetime
    ) -> None:
        """Append (movement id, lot id, signed amount) rows."""
        rows = [
            {
                "tenant_id": tenant_id,
                "movement_id": m,
                "lot_id": lot,
                "amount_minor": a,
                "created_at": now,
            }
            for m, lot, a in moves
        ]
        _keep(
            unit,
            MOVE_INSERT,
            MOVE_INSERT_SET,
            rows,
            lambda c: c.execute(insert(points_lot_moves), rows),
            points_lot_moves,
        )


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
    rows: Sequence[dict[str, Any]],
    at_once: Callable[[Connection], object],
    table: Table,
) -> None:
    """Insert ``rows``: for the few rows of a live use case, one statement per row kept for the
    unit's next round trip; from ``SET_ROWS_MIN`` rows on, one statement for all, sent now: a
    binary COPY on PostgreSQL where the role may (an import batch's lots and moves), else one
    INSERT of ``unnest`` arrays."""
    sql_unit = unit_of(unit)
    if len(rows) < SET_ROWS_MIN:
        sql_unit.later(per_row_sql, rows, at_once)
        return
    if sql_unit.postgres:
        session = sql_unit.session  # sends what the unit kept first: program order
        names = list(rows[0])
        values = [[row[name] for name in names] for row in rows]
        if isinstance(session, PostgresWriteSession) and session.copy_rows(table, names, values):
            return
    sql_unit.write_columns(
        set_sql, {name: [row[name] for row in rows] for name in rows[0]}, at_once
    )


def _lot_row(tenant_id: str, lot: Lot) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "lot_id": lot.lot_id,
        "asset_code": lot.asset_code,
        "holder_id": lot.holder_id,
        "reason": lot.reason,
        "amount_minor": lot.amount_minor,
        "remaining_minor": lot.remaining_minor,
        "state": lot.state.value,
        "deficit": lot.deficit,
        "earned_at": lot.earned_at,
        "activated_at": lot.activated_at,
        "expires_at": lot.expires_at,
        "pending_due_at": lot.pending_due_at,
    }
