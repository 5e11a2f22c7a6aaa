"""Keyset pages of the points programme's lists: its points assets, its reason codes, and a
holder's expiry forecast.

Owns: the reads behind ``GET /points/assets``, ``GET /points/reasons`` and ``GET
/points/{holder}/expiring``. Each page continues strictly after the previous page's last sort
key (no OFFSET), on the tables' keys: assets by code, reasons by (direction, code) (both the
primary key after the tenant), a holder's forecast by expiry time on
``ix_points_lots_holder``. Protects invariant 8: every statement is filtered by ``tenant_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_

from rewardledger.domain.points import Direction, ExpiryPolicy, LotState, Reason
from rewardledger.domain.points_requests import ExpiringQuery, ReasonQuery
from rewardledger.storage.points_reads import PointsReads
from rewardledger.storage.schema_points import points_assets, points_lots, points_reasons


def reason_of(row: Any) -> Reason:
    """A reason code from its ``points_reasons`` row."""
    return Reason(
        Direction(row.direction),
        row.reason,
        allow_negative=row.allow_negative,
        pending_seconds=row.pending_seconds,
        pending_until_activated=row.pending_until_activated,
        expiry=None if row.expiry is None else ExpiryPolicy.from_json(row.expiry),
    )


class PointsLists(PointsReads):
    """Pages of points assets, reason codes and a holder's forecast (``SqlPointsStore``)."""

    def points_assets_page(self, tenant_id: str, after: str | None, limit: int) -> list[str]:
        """The codes of the tenant's points assets after ``after``, by code."""
        a = points_assets.c
        query = select(a.asset_code).where(a.tenant_id == tenant_id)
        if after is not None:
            query = query.where(a.asset_code > after)
        with self._read() as connection:
            return list(connection.scalars(query.order_by(a.asset_code).limit(limit)))

    def reasons_page(self, tenant_id: str, wanted: ReasonQuery) -> list[Reason]:
        """Reason codes by (direction, code) after ``after``, of ``direction`` when given."""
        r = points_reasons.c
        query = select(points_reasons).where(r.tenant_id == tenant_id)
        if wanted.direction is not None:
            query = query.where(r.direction == wanted.direction)
        if wanted.after is not None:
            after = tuple_(*map(literal, wanted.after))
            query = query.where(tuple_(r.direction, r.reason) > after)
        query = query.order_by(r.direction, r.reason).limit(wanted.limit)
        with self._read() as connection:
            return [reason_of(row) for row in connection.execute(query)]

    def expiring_page(self, tenant_id: str, wanted: ExpiringQuery) -> list[tuple[datetime, int]]:
        """(expires_at, points) of the holder's active lots expiring after ``after``, soonest
        first, one row per expiry time."""
        lots = points_lots.c
        query = select(lots.expires_at, func.sum(lots.remaining_minor).label("amount")).where(
            lots.tenant_id == tenant_id,
            lots.asset_code == wanted.asset_code,
            lots.holder_id == wanted.holder_id,
            lots.state == LotState.ACTIVE.value,
            lots.remaining_minor > 0,
            lots.expires_at.is_not(None),
        )
        if wanted.after is not None:
            query = query.where(lots.expires_at > literal(wanted.after, lots.expires_at.type))
        query = query.group_by(lots.expires_at).order_by(lots.expires_at).limit(wanted.limit)
        with self._read() as connection:
            return [(row.expires_at, int(row.amount)) for row in connection.execute(query)]
