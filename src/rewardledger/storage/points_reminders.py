"""SQL storage of the expiring-soon reminders (implements ``services.points.reminders.
ReminderStore``): which lots expire soon, and which reminders were already written.

Owns: the statements on ``points_reminders`` and the reads of ``points_lots`` the reminders
step makes. Protects: a reminder is written once per (holder, asset, expiry date, days ahead):
``mark_reminded`` inserts its keys with ``ON CONFLICT DO NOTHING`` and returns only those it
inserted; on PostgreSQL a second transaction inserting the same key waits for the first one's
commit and then inserts nothing, so two workers at once write one reminder between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from rewardledger.domain.points import LotState
from rewardledger.domain.points_queries import ReminderWindow
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.schema_points import points_lots, points_reminders
from rewardledger.storage.tenancy import scoped_by_tenant
from rewardledger.storage.unit import connection_of

lots = points_lots.c


def _expiring_between(tenant_id: str, window: ReminderWindow) -> Any:
    return and_(
        lots.tenant_id == tenant_id,
        lots.state == LotState.ACTIVE.value,
        lots.deficit.is_(False),
        lots.remaining_minor > 0,
        lots.expires_at.is_not(None),
        lots.expires_at > window.start,
        lots.expires_at <= window.end,
    )


@scoped_by_tenant
class SqlReminderStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def holders_expiring(
        self,
        unit: StorageUnit,
        tenant_id: str,
        window: ReminderWindow,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[tuple[str, str]]:
        """(asset, holder) with active lots expiring in the window, after ``after``."""
        query = (
            select(lots.asset_code, lots.holder_id)
            .where(_expiring_between(tenant_id, window))
            .group_by(lots.asset_code, lots.holder_id)
            .order_by(lots.asset_code, lots.holder_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                or_(
                    lots.asset_code > after[0],
                    and_(lots.asset_code == after[0], lots.holder_id > after[1]),
                )
            )
        rows = connection_of(unit).execute(query)
        return [(row.asset_code, row.holder_id) for row in rows]

    def lots_expiring(
        self,
        unit: StorageUnit,
        tenant_id: str,
        window: ReminderWindow,
        holders: Sequence[tuple[str, str]],
    ) -> list[tuple[str, str, datetime, int]]:
        """(asset, holder, expires_at, remaining) of those holders' lots expiring in the
        window, by asset, holder and expiry."""
        if not holders:
            return []
        query = (
            select(lots.asset_code, lots.holder_id, lots.expires_at, lots.remaining_minor)
            .where(
                _expiring_between(tenant_id, window),
                tuple_(lots.asset_code, lots.holder_id).in_(list(holders)),
            )
            .order_by(lots.asset_code, lots.holder_id, lots.expires_at, lots.lot_id)
        )
        rows = connection_of(unit).execute(query)
        return [(r.asset_code, r.holder_id, r.expires_at, int(r.remaining_minor)) for r in rows]

    def mark_reminded(
        self,
        unit: StorageUnit,
        tenant_id: str,
        window: ReminderWindow,
        reminders: Sequence[tuple[str, str, str, int]],
    ) -> set[tuple[str, str, str]]:
        """Record reminders (asset, holder, expiry date, amount) for the window's
        ``days_ahead``, at its start; return the (asset, holder, expiry date) of those not
        recorded before (the ones to write)."""
        if not reminders:
            return set()
        insert: Any = postgresql.insert if self.postgres else sqlite.insert
        statement = (
            insert(points_reminders)
            .values(
                [
                    {
                        "tenant_id": tenant_id,
                        "asset_code": asset,
                        "holder_id": holder,
                        "expires_on": day,
                        "days_ahead": window.days_ahead,
                        "amount_minor": amount,
                        "reminded_at": window.start,
                    }
                    for asset, holder, day, amount in reminders
                ]
            )
            .on_conflict_do_nothing()
            .returning(
                points_reminders.c.asset_code,
                points_reminders.c.holder_id,
                points_reminders.c.expires_on,
            )
        )
        rows = connection_of(unit).execute(statement)
        return {(row.asset_code, row.holder_id, row.expires_on) for row in rows}
