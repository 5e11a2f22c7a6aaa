"""``SqlPointsStore``: the points service's rows (issue 4) on SQLite or PostgreSQL.

Owns: the statements on ``schema_points`` tables, and the points service's reads of the
journal (accumulations, summaries, integrity sums). Writes run on a unit of work's connection,
in the transaction that posts the journal's transfers (CONVENTIONS.md, rule 9); a holder's row
is locked (``FOR UPDATE`` on PostgreSQL; SQLite's unit already holds the only writer lock) so
that two spends of one holder are decided one after the other. Every statement names its
tenant (invariant 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Row,
    String,
    and_,
    any_,
    insert,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import ARRAY

from rewardledger.domain.points import (
    ExpiryPolicy,
    Lot,
    LotState,
    Reason,
)
from rewardledger.domain.points_queries import MovementKey, MovementReads, RefundIds
from rewardledger.domain.points_requests import AssetExpiry, AssetHolders
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage import points_context
from rewardledger.storage.points_lists import PointsLists, reason_of
from rewardledger.storage.points_lot_writes import LotWrites
from rewardledger.storage.schema import transfers
from rewardledger.storage.schema_points import (
    points_assets,
    points_holders,
    points_lot_moves,
    points_lots,
    points_reasons,
)
from rewardledger.storage.tenancy import scoped_by_tenant
from rewardledger.storage.unit import SqlUnit, connection_of, reading, unit_of

_POSTED = ("single", "post")


@scoped_by_tenant
class SqlPointsStore(LotWrites, PointsLists):
    """The points service's storage (``services.points.port.PointsStore``)."""

    # Settings ----------------------------------------------------------------------------------

    def get_expiry(self, tenant_id: str, asset_code: str) -> ExpiryPolicy | None:
        """The asset's expiry policy, or None if the asset is not a points asset."""
        with self._read() as connection:
            row = connection.execute(
                select(points_assets.c.expiry).where(
                    points_assets.c.tenant_id == tenant_id,
                    points_assets.c.asset_code == asset_code,
                )
            ).first()
        return None if row is None else ExpiryPolicy.from_json(row.expiry)

    def points_assets(self, tenant_id: str) -> list[str]:
        return self._read_column(
            select(points_assets.c.asset_code)
            .where(points_assets.c.tenant_id == tenant_id)
            .order_by(points_assets.c.asset_code)
        )

    def put_asset(
        self, unit: StorageUnit, tenant_id: str, asset: AssetExpiry, now: datetime
    ) -> None:
        asset_code, expiry = asset.asset_code, asset.expiry
        connection = connection_of(unit)
        found = connection.execute(
            select(points_assets.c.asset_code).where(
                points_assets.c.tenant_id == tenant_id, points_assets.c.asset_code == asset_code
            )
        ).first()
        if found is None:
            connection.execute(
                insert(points_assets).values(
                    tenant_id=tenant_id,
                    asset_code=asset_code,
                    expiry=expiry.to_json(),
                    created_at=now,
                )
            )
        else:
            connection.execute(
                sql_update(points_assets)
                .where(
                    points_assets.c.tenant_id == tenant_id,
                    points_assets.c.asset_code == asset_code,
                )
                .values(expiry=expiry.to_json())
            )

    def reasons(self, tenant_id: str) -> dict[tuple[str, str], Reason]:
        with self._read() as connection:
            rows = connection.execute(
                select(points_reasons).where(points_reasons.c.tenant_id == tenant_id)
            ).all()
        return {(r.direction, r.reason): reason_of(r) for r in rows}

    def put_reason(self, unit: StorageUnit, tenant_id: str, reason: Reason, now: datetime) -> None:
        connection = connection_of(unit)
        values = {
            "allow_negative": reason.allow_negative,
            "pending_seconds": reason.pending_seconds,
            "pending_until_activated": reason.pending_until_activated,
            "expiry": None if reason.expiry is None else reason.expiry.to_json(),
        }
        key = and_(
            points_reasons.c.tenant_id == tenant_id,
            points_reasons.c.direction == reason.direction.value,
            points_reasons.c.reason == reason.code,
        )
        if connection.execute(select(points_reasons.c.reason).where(key)).first() is None:
            connection.execute(
                insert(points_reasons).values(
                    tenant_id=tenant_id,
                    direction=reason.direction.value,
                    reason=reason.code,
                    created_at=now,
                    **values,
                )
            )
        else:
            connection.execute(sql_update(points_reasons).where(key).values(**values))

    # Holders and lots --------------------------------------------------------------------------

    def context(
        self, tenant_id: str, key: MovementKey
    ) -> tuple[ExpiryPolicy | None, Reason | None, bool]:
        """In one statement: the asset's expiry policy (None: not a points asset), the reason
        (None: unknown) and whether the holder has been seen."""
        with self._read() as connection:
            return points_context.context(connection, tenant_id, key)

    def movement_context(
        self, unit: StorageUnit, tenant_id: str, reads: MovementReads
    ) -> points_context.Context:
        """What starts a movement, the holder's row locked first (``points_context``): the
        policy, the reason, whether the holder was seen, whether the movement's id is in the
        journal, and the holder's open lots (or the lots named)."""
        sql_unit = unit_of(unit)
        if sql_unit.postgres:
            return points_context.movement_context(sql_unit, tenant_id, reads)
        # SQLite: the unit holds the only writer lock already.
        key = reads.key
        policy, found, known = points_context.context(connection_of(unit), tenant_id, key)
        replayed = bool(self.existing_transfer_ids(unit, tenant_id, [reads.transfer_id]))
        if reads.lot_ids is None:
            lots = self.open_lots(unit, tenant_id, key.asset_code, [key.holder_id])
        else:
            lots = list(self.get_lots(unit, tenant_id, reads.lot_ids).values())
        return policy, found, known, replayed, lots

    def holder_exists(self, tenant_id: str, asset_code: str, holder_id: str) -> bool:
        with self._read() as connection:
            return (
                connection.execute(
                    select(points_holders.c.holder_id).where(
                        points_holders.c.tenant_id == tenant_id,
                        points_holders.c.asset_code == asset_code,
                        points_holders.c.holder_id == holder_id,
                    )
                ).first()
                is not None
            )

    def holders(self, tenant_id: str, after: str | None, limit: int) -> list[tuple[str, str]]:
        """(asset, holder) pairs in order, for walking every holder in pages."""
        with self._read() as connection:
            query = select(points_holders.c.asset_code, points_holders.c.holder_id).where(
                points_holders.c.tenant_id == tenant_id
            )
            if after is not None:
                asset, holder = after.split("\x1f", 1)
                # One row comparison, not an OR of two: PostgreSQL then starts the walk of the
                # key's index at the cursor instead of filtering every row before it.
                query = query.where(
                    tuple_(points_holders.c.asset_code, points_holders.c.holder_id)
                    > tuple_(asset, holder)
                )
            rows = connection.execute(
                query.order_by(points_holders.c.asset_code, points_holders.c.holder_id).limit(limit)
            ).all()
        return [(r.asset_code, r.holder_id) for r in rows]

    def lock_holders(
        self, unit: StorageUnit, tenant_id: str, holders: AssetHolders, now: datetime
    ) -> list[str]:
        """Lock the holders' rows (creating missing ones), in a fixed order; return the
        holders created."""
        connection = connection_of(unit)
        asset_code = holders.asset_code
        wanted = sorted(set(holders.holder_ids))
        found = set(
            connection.execute(
                self._locked(
                    select(points_holders.c.holder_id)
                    .where(
                        points_holders.c.tenant_id == tenant_id,
                        points_holders.c.asset_code == asset_code,
                        _among(connection, points_holders.c.holder_id, wanted),
                    )
                    .order_by(points_holders.c.holder_id)
                )
            ).scalars()
        )
        missing = [h for h in wanted if h not in found]
        if missing:
            connection.execute(
                insert(points_holders),
                [
                    {
                        "tenant_id": tenant_id,
                        "asset_code": asset_code,
                        "holder_id": h,
                        "created_at": now,
                    }
                    for h in missing
                ],
            )
        return missing

    def open_lots(
        self, unit: StorageUnit, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> list[Lot]:
        """The holders' pending lots, active lots that hold points, and deficit lots (a lot
        spent to zero is left out: only a refund, which reads it by id, touches it again)."""
        if isinstance(unit, SqlUnit) and unit.postgres:  # an import batch reads thousands
            params = {"tenant": tenant_id, "asset": asset_code, "holders": sorted(set(holder_ids))}
            return _driver_lots(unit.fetch(_OPEN_LOTS_OF, params)[0])
        connection = connection_of(unit)
        rows = connection.execute(
            select(*_LOT_COLUMNS).where(
                points_lots.c.tenant_id == tenant_id,
                points_lots.c.asset_code == asset_code,
                _among(connection, points_lots.c.holder_id, sorted(set(holder_ids))),
                or_(
                    points_lots.c.state == LotState.PENDING.value,
                    and_(
                        points_lots.c.state == LotState.ACTIVE.value,
                        or_(points_lots.c.remaining_minor != 0, points_lots.c.deficit),
                    ),
                ),
            )
        ).all()
        return [_lot(r) for r in rows]

    def get_lot(self, unit: ReadUnit | None, tenant_id: str, lot_id: str) -> Lot | None:
        query = select(*_LOT_COLUMNS).where(
            points_lots.c.tenant_id == tenant_id, points_lots.c.lot_id == lot_id
        )
        with reading(self.engine, unit) as connection:
            row = connection.execute(query).first()
        return None if row is None else _lot(row)

    def get_lots(self, unit: StorageUnit, tenant_id: str, lot_ids: Sequence[str]) -> dict[str, Lot]:
        rows = (
            connection_of(unit)
            .execute(
                select(*_LOT_COLUMNS).where(
                    points_lots.c.tenant_id == tenant_id,
                    points_lots.c.lot_id.in_(sorted(set(lot_ids))),
                )
            )
            .all()
        )
        return {r.lot_id: _lot(r) for r in rows}

    def moves_of(
        self, unit: ReadUnit | None, tenant_id: str, movement_id: str
    ) -> list[tuple[str, int]]:
        query = (
            select(points_lot_moves.c.lot_id, points_lot_moves.c.amount_minor)
            .where(
                points_lot_moves.c.tenant_id == tenant_id,
                points_lot_moves.c.movement_id == movement_id,
            )
            .order_by(points_lot_moves.c.lot_id)
        )
        with reading(self.engine, unit) as connection:
            rows = connection.execute(query).all()
        return [(r.lot_id, int(r.amount_minor)) for r in rows]

    def refund_context(
        self, unit: StorageUnit, tenant_id: str, reads: RefundIds
    ) -> points_context.RefundContext:
        """The redemption (locked), then its holder's row (locked), then: whether the refund is
        in the journal, the holder's open lots, the spend's moves and the lots they took from
        (``points_context.refund_context``: one round trip on PostgreSQL)."""
        sql_unit = unit_of(unit)
        if sql_unit.postgres:
            return points_context.refund_context(sql_unit, tenant_id, reads)
        row = self.get_redemption(unit, tenant_id, reads.redemption_id)
        if row is None:
            return None, False, [], [], {}
        refunded = bool(self.existing_transfer_ids(unit, tenant_id, [reads.refund_id]))
        lots = self.open_lots(unit, tenant_id, row["asset_code"], [row["holder_id"]])
        moves = self.moves_of(unit, tenant_id, reads.spend_id)
        taken = self.get_lots(unit, tenant_id, [lot_id for lot_id, _ in moves])
        return row, refunded, lots, moves, taken

    def existing_transfer_ids(
        self, unit: StorageUnit, tenant_id: str, transfer_ids: Sequence[str]
    ) -> set[str]:
        if not transfer_ids:
            return set()
        connection = connection_of(unit)
        return set(
            connection.execute(
                select(transfers.c.transfer_id).where(
                    transfers.c.tenant_id == tenant_id,
                    _among(connection, transfers.c.transfer_id, list(transfer_ids)),
                )
            ).scalars()
        )


def _among(connection: Connection, column: Column[str], values: list[str]) -> ColumnElement[bool]:
    """``column IN values``: on PostgreSQL as ``= ANY`` of one array parameter, whose text
    is the same for any number of values (an import batch's thousands of ids would otherwise
    be as many placeholders, parsed again on every call)."""
    if connection.dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(String)))
    return column.in_(values)


# A lot's columns in the order of ``Lot``'s fields, so that a row is read positionally: an
# import reads thousands of open lots per batch, and a mapping lookup per field cost more than
# the query.
_LOT_COLUMNS = tuple(points_lots.c[field.name] for field in fields(Lot))
_LOT_STATES = {state.value: state for state in LotState}
_OPEN_LOTS_OF = (
    f"SELECT {', '.join(c.name for c in _LOT_COLUMNS)} FROM points_lots "  # noqa: S608 - names
    "WHERE tenant_id = %(tenant)s AND asset_code = %(asset)s AND holder_id = ANY(%(holders)s) "
    "AND (state = 'pending' OR (state = 'active' AND (remaining_minor <> 0 OR deficit)))"
)


def _lot(row: Row[Any]) -> Lot:
    values: tuple[Any, ...] = tuple(row)
    (lot_id, holder_id, asset_code, reason, amount, remaining, state, *instants, deficit) = values
    earned_at, activated_at, expires_at, pending_due_at = instants
    return Lot(
        lot_id,
        holder_id,
        asset_code,
        reason,
        int(amount),
        int(remaining),
        _LOT_STATES[state],
        earned_at,
        activated_at,
        expires_at,
        pending_due_at,
        bool(deficit),
    )


def _driver_lots(rows: list[tuple[Any, ...]]) -> list[Lot]:
    """``_lot`` of rows read off the driver, whose instants are put in UTC here (as
    ``storage.types.UtcDateTime`` reads them); inline, for the thousands of an import batch."""
    states = _LOT_STATES
    return [
        Lot(
            lot_id,
            holder_id,
            asset_code,
            reason,
            int(amount),
            int(remaining),
            states[state],
            earned_at.astimezone(UTC),  # NOT NULL
            None if activated_at is None else activated_at.astimezone(UTC),
            None if expires_at is None else expires_at.astimezone(UTC),
            None if pending_due_at is None else pending_due_at.astimezone(UTC),
            bool(deficit),
        )
        for (
            lot_id,
            holder_id,
            asset_code,
            reason,
            amount,
            remaining,
            state,
            earned_at,
            activated_at,
            expires_at,
            pending_due_at,
            deficit,
        ) in rows
    ]
