"""The points store's statements on PostgreSQL that save round trips: the writes a unit keeps
for its next statement or COMMIT (``SqlUnit.later``), and the reads that start a movement, sent
together in one round trip (``SqlUnit.read_together``).

Owns: the hand-written SQL of those statements (psycopg ``%(name)s`` parameters, bound on the
client). Protects: the lots are read by a statement of their own *after* the statement that
locks the holder's row, so that (READ COMMITTED taking a snapshot per statement) they show
every change the lock waited for, as when they were two round trips. Every statement names
its tenant (invariant 8).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from rewardledger.domain.points import Direction, ExpiryPolicy, Lot, LotState, Reason
from rewardledger.domain.points_queries import MovementKey, MovementReads, RefundIds
from rewardledger.storage.schema_points import (
    points_assets,
    points_holders,
    points_lot_moves,
    points_lots,
    points_reasons,
)
from rewardledger.storage.unit import POSTGRES, SqlUnit
from rewardledger.storage.write_postgres import unnest_insert

LOT_COLUMNS = (
    "tenant_id, lot_id, asset_code, holder_id, reason, amount_minor, remaining_minor, state, "
    "deficit, earned_at, activated_at, expires_at, pending_due_at"
)
LOT_INSERT = (
    f"INSERT INTO points_lots ({LOT_COLUMNS}) VALUES ("  # noqa: S608 - column names of the table, values bound
    + ", ".join(f"%({c})s" for c in LOT_COLUMNS.split(", "))
    + ")"
)
LOT_UPDATE = (
    "UPDATE points_lots SET remaining_minor = %(b_remaining)s, state = %(b_state)s, "
    "activated_at = %(b_activated_at)s, expires_at = %(b_expires_at)s "
    "WHERE tenant_id = %(b_tenant)s AND lot_id = %(b_lot_id)s"
)
MOVE_COLUMNS = ["tenant_id", "movement_id", "lot_id", "amount_minor", "created_at"]
MOVE_INSERT = (
    "INSERT INTO points_lot_moves (tenant_id, movement_id, lot_id, amount_minor, created_at) "
    "VALUES (%(tenant_id)s, %(movement_id)s, %(lot_id)s, %(amount_minor)s, %(created_at)s)"
)

# The same writes for many rows at once, one statement each (arrays bound per column, sent
# at once by ``SqlUnit.write_columns``): from ``SET_ROWS_MIN`` rows on (an import's batch),
# where one statement per row would cost the server a parse and plan each.
LOT_INSERT_SET = unnest_insert(points_lots, LOT_COLUMNS.split(", "), POSTGRES)
MOVE_INSERT_SET = unnest_insert(points_lot_moves, MOVE_COLUMNS, POSTGRES)
LOT_UPDATE_SET = (
    "UPDATE points_lots AS l SET remaining_minor = v.remaining_minor, state = v.state, "
    "activated_at = v.activated_at, expires_at = v.expires_at "
    "FROM unnest(%(b_lot_id)b::text[], %(b_remaining)b::bigint[], %(b_state)b::text[], "
    "%(b_activated_at)b::timestamptz[], %(b_expires_at)b::timestamptz[]) "
    "AS v(lot_id, remaining_minor, state, activated_at, expires_at) "
    "WHERE l.tenant_id = %(b_tenant)s AND l.lot_id = v.lot_id"
)

# The asset, the reason, the holder's row (locked) and whether the movement's id is in the
# journal already. A twin that commits while the lock waits is not seen here; its id then
# collides in the journal's write and the unit runs again (``ledger.unit``).
_CONTEXT = (
    "SELECT a.expiry AS asset_expiry, r.direction, r.reason, r.allow_negative, "
    "r.pending_seconds, r.pending_until_activated, r.expiry, "
    "(SELECT h.holder_id FROM points_holders AS h WHERE h.tenant_id = %(tenant)s "
    "AND h.asset_code = %(asset)s AND h.holder_id = %(holder)s FOR UPDATE) AS holder_id, "
    "EXISTS (SELECT 1 FROM transfers AS t WHERE t.tenant_id = %(tenant)s "
    "AND t.transfer_id = %(transfer)s) AS replayed "
    "FROM points_assets AS a LEFT JOIN points_reasons AS r ON r.tenant_id = a.tenant_id "
    "AND r.direction = %(direction)s AND r.reason = %(reason)s "
    "WHERE a.tenant_id = %(tenant)s AND a.asset_code = %(asset)s"
)
# As ``SqlPointsStore.open_lots``: pending lots, active lots that hold points, deficit lots.
_OPEN_LOTS = (
    f"SELECT {LOT_COLUMNS} FROM points_lots WHERE tenant_id = %(tenant)s "  # noqa: S608 - column names of the table, values bound
    "AND asset_code = %(asset)s AND holder_id = %(holder)s AND (state = 'pending' OR "
    "(state = 'active' AND (remaining_minor <> 0 OR deficit)))"
)
_LOTS_BY_ID = (
    f"SELECT {LOT_COLUMNS} FROM points_lots WHERE tenant_id = %(tenant)s "  # noqa: S608 - column names of the table, values bound
    "AND lot_id = ANY(%(lot_ids)s)"
)

Context = tuple[ExpiryPolicy | None, Reason | None, bool, bool, list[Lot]]


def movement_context(unit: SqlUnit, tenant_id: str, reads: MovementReads) -> Context:
    """(expiry policy or None, reason or None, holder seen, id in the journal, lots): the
    holder's open lots, or the lots ``reads.lot_ids`` when given. One round trip."""
    key = reads.key
    params = {
        "tenant": tenant_id,
        "asset": key.asset_code,
        "holder": key.holder_id,
        "direction": key.direction.value,
        "reason": key.reason,
        "transfer": reads.transfer_id,
        "lot_ids": list(reads.lot_ids or ()),
    }
    lots_sql = _OPEN_LOTS if reads.lot_ids is None else _LOTS_BY_ID
    context, lots = unit.read_together([(_CONTEXT, params), (lots_sql, params)])
    if not context:
        return None, None, False, False, []
    row = context[0]
    found = None if row["reason"] is None else reason_of_row(row)
    policy = ExpiryPolicy.from_json(row["asset_expiry"])
    return (
        policy,
        found,
        row["holder_id"] is not None,
        bool(row["replayed"]),
        [lot_of_row(r) for r in lots],
    )


def context(
    connection: Connection, tenant_id: str, key: MovementKey
) -> tuple[ExpiryPolicy | None, Reason | None, bool]:
    """The asset's expiry policy (None: not a points asset), the reason (None: unknown) and
    whether the holder has been seen, in one statement (both engines, through SQLAlchemy)."""
    r = points_reasons.alias("r")
    h = points_holders.alias("h")
    query = (
        select(
            points_assets.c.expiry.label("asset_expiry"),
            r.c.direction,
            r.c.reason,
            r.c.allow_negative,
            r.c.pending_seconds,
            r.c.pending_until_activated,
            r.c.expiry,
            h.c.holder_id,
        )
        .select_from(
            points_assets.outerjoin(
                r,
                and_(
                    r.c.tenant_id == points_assets.c.tenant_id,
                    r.c.direction == key.direction.value,
                    r.c.reason == key.reason,
                ),
            ).outerjoin(
                h,
                and_(
                    h.c.tenant_id == points_assets.c.tenant_id,
                    h.c.asset_code == points_assets.c.asset_code,
                    h.c.holder_id == key.holder_id,
                ),
            )
        )
        .where(points_assets.c.tenant_id == tenant_id, points_assets.c.asset_code == key.asset_code)
    )
    row = connection.execute(query).first()
    if row is None:
        return None, None, False
    found = None if row.reason is None else reason_of_row(dict(row._mapping))
    return ExpiryPolicy.from_json(row.asset_expiry), found, row.holder_id is not None


def reason_of_row(row: Mapping[str, Any]) -> Reason:
    return Reason(
        Direction(row["direction"]),
        row["reason"],
        allow_negative=row["allow_negative"],
        pending_seconds=row["pending_seconds"],
        pending_until_activated=row["pending_until_activated"],
        expiry=None if row["expiry"] is None else ExpiryPolicy.from_json(row["expiry"]),
    )


def lot_of_row(row: Mapping[str, Any]) -> Lot:
    return Lot(
        row["lot_id"],
        row["holder_id"],
        row["asset_code"],
        row["reason"],
        int(row["amount_minor"]),
        int(row["remaining_minor"]),
        LotState(row["state"]),
        utc(row["earned_at"]),
        utc(row["activated_at"]),
        utc(row["expires_at"]),
        utc(row["pending_due_at"]),
        deficit=bool(row["deficit"]),
    )


def utc(value: datetime | None) -> Any:
    """An instant read on the driver, in UTC (as ``storage.types.UtcDateTime`` reads it)."""
    return None if value is None else value.astimezone(UTC)


# A redemption's end: the redemption's row locked, then its holder's row locked, then the
# reads that decide the refund, each after both locks.
_REDEMPTION_COLUMNS = (
    "tenant_id, redemption_id, code, asset_code, holder_id, offer_id, cost_minor, state, "
    "created_at, expires_at, resolved_at, resolved_by, refunded_minor, forfeited_minor"
)
_OF_REDEMPTION = (
    "(SELECT p.asset_code, p.holder_id FROM points_redemptions AS p "
    "WHERE p.tenant_id = %(tenant)s AND p.redemption_id = %(redemption)s)"
)
_LOT_COLUMNS_OF_L = ", ".join(f"l.{c}" for c in LOT_COLUMNS.split(", "))
_REFUND_READS = (
    f"SELECT {_REDEMPTION_COLUMNS} FROM points_redemptions "  # noqa: S608 - constant SQL
    "WHERE tenant_id = %(tenant)s AND redemption_id = %(redemption)s FOR UPDATE",
    "SELECT h.holder_id FROM points_holders AS h WHERE h.tenant_id = %(tenant)s "  # noqa: S608
    f"AND (h.asset_code, h.holder_id) = {_OF_REDEMPTION} FOR UPDATE",
    "SELECT EXISTS (SELECT 1 FROM transfers WHERE tenant_id = %(tenant)s "
    "AND transfer_id = %(refund)s) AS refunded",
    f"SELECT {_LOT_COLUMNS_OF_L} FROM points_redemptions AS p "  # noqa: S608 - constant SQL
    "JOIN points_lots AS l ON l.tenant_id = p.tenant_id AND l.asset_code = p.asset_code "
    "AND l.holder_id = p.holder_id WHERE p.tenant_id = %(tenant)s "
    "AND p.redemption_id = %(redemption)s AND (l.state = 'pending' OR "
    "(l.state = 'active' AND (l.remaining_minor <> 0 OR l.deficit)))",
    "SELECT lot_id, amount_minor FROM points_lot_moves WHERE tenant_id = %(tenant)s "
    "AND movement_id = %(spend)s ORDER BY lot_id",
    f"SELECT {_LOT_COLUMNS_OF_L} FROM points_lot_moves AS m "  # noqa: S608 - constant SQL
    "JOIN points_lots AS l ON l.tenant_id = m.tenant_id AND l.lot_id = m.lot_id "
    "WHERE m.tenant_id = %(tenant)s AND m.movement_id = %(spend)s",
)

RefundContext = tuple[dict[str, Any] | None, bool, list[Lot], list[tuple[str, int]], dict[str, Lot]]


def refund_context(unit: SqlUnit, tenant_id: str, reads: RefundIds) -> RefundContext:
    """(the redemption or None, refund in the journal, the holder's open lots, the spend's
    (lot, amount) moves, the lots they took from by id). One round trip."""
    params = {
        "tenant": tenant_id,
        "redemption": reads.redemption_id,
        "spend": reads.spend_id,
        "refund": reads.refund_id,
    }
    redemption, _, refunded, lots, moves, taken = unit.read_together(
        [(sql, params) for sql in _REFUND_READS]
    )
    if not redemption:
        return None, False, [], [], {}
    row = dict(redemption[0])
    for instant in ("created_at", "expires_at", "resolved_at"):
        row[instant] = utc(row[instant])
    return (
        row,
        bool(refunded[0]["refunded"]),
        [lot_of_row(r) for r in lots],
        [(r["lot_id"], int(r["amount_minor"])) for r in moves],
        {r["lot_id"]: lot_of_row(r) for r in taken},
    )
