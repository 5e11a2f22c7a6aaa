"""The points store's redemptions and its reads of the journal, on SQLite or PostgreSQL.

Owns: the statements on ``points_redemptions`` and the points service's reads of the journal
(accumulations, summaries, integrity sums), and the engine handling both halves of
``storage.points.SqlPointsStore`` share. Every statement names its tenant (invariant 8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, insert, select
from sqlalchemy import update as sql_update

from rewardledger.domain.points import AccumType, LotState, RedemptionState
from rewardledger.domain.points_queries import AccumulationQuery
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.schema import accounts, transfers
from rewardledger.storage.schema_points import points_lots, points_redemptions
from rewardledger.storage.store_base import EngineReads
from rewardledger.storage.unit import connection_of, unit_of

_POSTED = ("single", "post")


class PointsReads(EngineReads):
    """Redemptions and journal reads; ``SqlPointsStore`` adds settings, holders and lots."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def _locked(self, query: Any) -> Any:
        return query.with_for_update() if self._postgres else query

    # Redemptions -------------------------------------------------------------------------------

    def get_redemption(
        self, unit: ReadUnit | None, tenant_id: str, redemption_id: str
    ) -> dict[str, Any] | None:
        """The redemption ``redemption_id`` (locked, when read in a unit), or None."""
        wanted = points_redemptions.c.redemption_id == redemption_id
        return self._redemption_where(unit, tenant_id, wanted)

    def get_redemption_by_code(
        self, unit: ReadUnit | None, tenant_id: str, code: str
    ) -> dict[str, Any] | None:
        """The redemption of the normalised ``code`` (locked, when read in a unit), or None."""
        wanted = points_redemptions.c.code == code
        return self._redemption_where(unit, tenant_id, wanted)

    def _redemption_where(
        self, unit: ReadUnit | None, tenant_id: str, condition: ColumnElement[bool]
    ) -> dict[str, Any] | None:
        table = points_redemptions
        query = select(table).where(table.c.tenant_id == tenant_id, condition)
        if unit is not None:
            row = connection_of(unit).execute(self._locked(query)).first()
        else:
            with self._read() as connection:
                row = connection.execute(query).first()
        return None if row is None else dict(row._mapping)

    def insert_redemption(self, unit: StorageUnit, row: Mapping[str, Any]) -> None:
        columns = [c.name for c in points_redemptions.c if c.name in row]
        sql = (
            f"INSERT INTO points_redemptions ({', '.join(columns)}) "  # noqa: S608 - column names of the table, values bound
            f"VALUES ({', '.join(f'%({c})s' for c in columns)})"
        )
        unit_of(unit).later(
            sql, [row], lambda c: c.execute(insert(points_redemptions).values(**row))
        )

    def update_redemption(
        self, unit: StorageUnit, tenant_id: str, redemption_id: str, values: Mapping[str, Any]
    ) -> None:
        columns = [c.name for c in points_redemptions.c if c.name in values]
        sql = (
            f"UPDATE points_redemptions SET {', '.join(f'{c} = %({c})s' for c in columns)} "  # noqa: S608 - column names of the table, values bound
            "WHERE tenant_id = %(w_tenant)s AND redemption_id = %(w_redemption)s"
        )

        def at_once(connection: Connection) -> None:  # SQLite: built only where it runs
            table = points_redemptions
            connection.execute(
                sql_update(table)
                .where(table.c.tenant_id == tenant_id, table.c.redemption_id == redemption_id)
                .values(**values)
            )

        row = {**values, "w_tenant": tenant_id, "w_redemption": redemption_id}
        unit_of(unit).later(sql, [row], at_once)

    def due_redemptions(self, tenant_id: str, now: datetime, limit: int) -> list[str]:
        r, pending = points_redemptions.c, RedemptionState.PENDING.value
        return self._read_column(
            select(r.redemption_id)
            .where(r.tenant_id == tenant_id, r.state == pending, r.expires_at <= now)
            .order_by(r.expires_at, r.redemption_id)
            .limit(limit)
        )

    def list_redemptions(
        self, tenant_id: str, state: str | None, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """The tenant's redemptions (in ``state``, if given) by id, after ``after``."""
        table = points_redemptions
        query = select(table).where(table.c.tenant_id == tenant_id)
        if state is not None:
            query = query.where(table.c.state == state)
        if after is not None:
            query = query.where(table.c.redemption_id > after)
        with self._read() as connection:
            rows = connection.execute(query.order_by(table.c.redemption_id).limit(limit)).all()
        return [dict(row._mapping) for row in rows]

    # Journal reads -----------------------------------------------------------------------------

    def accumulations(self, tenant_id: str, wanted: AccumulationQuery) -> list[dict[str, Any]]:
        """The account's posted rows, newest first: seq, kind, reason, signed amount, balance
        after, effective time, metadata."""
        accum_type, limit = wanted.accum_type, wanted.limit
        found: list[dict[str, Any]] = []
        sides: list[tuple[str, int]] = []
        if accum_type in (None, AccumType.EARN):
            sides.append(("credit", 1))
        if accum_type in (None, AccumType.SPEND, AccumType.EXPIRE):
            sides.append(("debit", -1))
        with self._read() as connection:
            for side, sign in sides:
                seq = transfers.c[f"{side}_entry_seq"]
                query = (
                    select(
                        seq.label("seq"),
                        transfers.c.transfer_id,
                        transfers.c.kind,
                        transfers.c.reason,
                        transfers.c.amount_minor,
                        transfers.c[f"{side}_balance_after"].label("balance_after"),
                        transfers.c.effective_at,
                        transfers.c.metadata,
                    )
                    .where(
                        transfers.c.tenant_id == tenant_id,
                        transfers.c[f"{side}_account_id"] == wanted.account_id,
                        transfers.c.error_code.is_(None),
                        transfers.c.phase.in_(_POSTED),
                    )
                    .order_by(seq.desc())
                    .limit(limit)
                )
                if accum_type is AccumType.SPEND:
                    query = query.where(transfers.c.kind != "expire")
                elif accum_type is AccumType.EXPIRE:
                    query = query.where(transfers.c.kind == "expire")
                if wanted.before_seq is not None:
                    query = query.where(seq < wanted.before_seq)
                if wanted.since is not None:
                    query = query.where(transfers.c.effective_at >= wanted.since)
                if wanted.until is not None:
                    query = query.where(transfers.c.effective_at < wanted.until)
                for row in connection.execute(query):
                    item = dict(row._mapping)
                    item["quantity_minor"] = sign * int(row.amount_minor)
                    found.append(item)
        found.sort(key=lambda item: int(item["seq"]), reverse=True)
        return found[:limit]

    def holder_sums(self, tenant_id: str, account_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per account: materialized posted balance, earned, spent, expired, rows (journal)."""
        result: dict[str, dict[str, int]] = {
            a: {
                "materialized": 0,
                "earned": 0,
                "spent": 0,
                "expired": 0,
                "rows": 0,
                "credits_pending": 0,
            }
            for a in account_ids
        }
        if not account_ids:
            return result
        wanted = list(account_ids)
        with self._read() as connection:
            for row in connection.execute(
                select(
                    accounts.c.account_id,
                    (accounts.c.credits_posted - accounts.c.debits_posted).label("posted"),
                    accounts.c.credits_pending,
                ).where(accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(wanted))
            ):
                result[row.account_id]["materialized"] = int(row.posted)
                result[row.account_id]["credits_pending"] = int(row.credits_pending)
            base = and_(
                transfers.c.tenant_id == tenant_id,
                transfers.c.error_code.is_(None),
                transfers.c.phase.in_(_POSTED),
            )
            for row in connection.execute(
                select(
                    transfers.c.credit_account_id.label("account_id"),
                    func.sum(transfers.c.amount_minor).label("amount"),
                    func.count().label("rows"),
                )
                .where(base, transfers.c.credit_account_id.in_(wanted))
                .group_by(transfers.c.credit_account_id)
            ):
                result[row.account_id]["earned"] += int(row.amount)
                result[row.account_id]["rows"] += int(row.rows)
            is_expire = case((transfers.c.kind == "expire", 1), else_=0)
            for row in connection.execute(
                select(
                    transfers.c.debit_account_id.label("account_id"),
                    func.sum(transfers.c.amount_minor * (1 - is_expire)).label("spent"),
                    func.sum(transfers.c.amount_minor * is_expire).label("expired"),
                    func.count().label("rows"),
                )
                .where(base, transfers.c.debit_account_id.in_(wanted))
                .group_by(transfers.c.debit_account_id)
            ):
                result[row.account_id]["spent"] += int(row.spent or 0)
                result[row.account_id]["expired"] += int(row.expired or 0)
                result[row.account_id]["rows"] += int(row.rows)
        return result

    def lot_sums(
        self, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> dict[str, int]:
        """Per holder: the sum of its active lots' remainders (deficit lots included)."""
        if not holder_ids:
            return {}
        with self._read() as connection:
            rows = connection.execute(
                select(points_lots.c.holder_id, func.sum(points_lots.c.remaining_minor))
                .where(
                    points_lots.c.tenant_id == tenant_id,
                    points_lots.c.asset_code == asset_code,
                    points_lots.c.holder_id.in_(list(holder_ids)),
                    points_lots.c.state == LotState.ACTIVE.value,
                )
                .group_by(points_lots.c.holder_id)
            ).all()
        return {r[0]: int(r[1] or 0) for r in rows}

    def due_lots(
        self, tenant_id: str, state: LotState, now: datetime, limit: int
    ) -> list[tuple[str, str, str]]:
        """(lot, asset, holder) of active lots due to expire, or pending lots due to activate."""
        moment = (
            points_lots.c.expires_at if state is LotState.ACTIVE else (points_lots.c.pending_due_at)
        )
        query = (
            select(points_lots.c.lot_id, points_lots.c.asset_code, points_lots.c.holder_id)
            .where(
                points_lots.c.tenant_id == tenant_id,
                points_lots.c.state == state.value,
                moment.is_not(None),
                moment <= now,
            )
            .order_by(moment, points_lots.c.lot_id)
            .limit(limit)
        )
        if state is LotState.ACTIVE:
            query = query.where(points_lots.c.remaining_minor > 0, points_lots.c.deficit.is_(False))
        with self._read() as connection:
            return [(r.lot_id, r.asset_code, r.holder_id) for r in connection.execute(query)]
