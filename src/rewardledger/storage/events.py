"""SQL storage of the event feed (implements ``events.port.EventFeedStore``).

Owns: the feed query on ``outbox`` and the sinks' places (``event_sink_cursors``). Protects:
- no event is skipped: on PostgreSQL a transaction may commit after one that began later and
  numbered its rows later, so the feed reads only rows whose writing transaction is older than
  the oldest one still running (``pg_snapshot_xmin``); a row it has not read yet can then only
  come after the ones it has. On SQLite the writers take turns, so every committed row is
  final as soon as it is seen;
- one relay at a time per (tenant, sink): on PostgreSQL a session advisory lock, taken without
  waiting and held on a connection of its own for the batch (it ends with that connection, so
  a relay that dies frees it); on SQLite, where one process serves, a lock in the process;
- a sink's place never moves back: the upsert keeps the later of the two places.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    delete,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnClause

from rewardledger.events.views import FeedPosition, StoredEvent
from rewardledger.storage.schema import outbox
from rewardledger.storage.schema_events import event_sink_cursors
from rewardledger.storage.store_base import EngineStore
from rewardledger.storage.tenancy import scoped_by_tenant, tenant_scope

_OLDEST_RUNNING: ColumnClause[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger()
)
_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(:name, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(:name, 0))"
_process_claims: dict[tuple[int, str, str], threading.Lock] = {}
_process_claims_guard = threading.Lock()
# The outbox columns a reader of the feed gets, as ``stored_event`` reads them.
EVENT_COLUMNS = (
    outbox.c.txid,
    outbox.c.position,
    outbox.c.event_id,
    outbox.c.event_type,
    outbox.c.subject_id,
    outbox.c.payload,
    outbox.c.created_at,
)


def stored_event(row: Any) -> StoredEvent:
    """The event of an outbox row selected with ``EVENT_COLUMNS``."""
    return StoredEvent(
        at=FeedPosition(row.txid, row.position),
        event_id=row.event_id,
        event_type=row.event_type,
        subject_id=row.subject_id,
        payload=row.payload,
        created_at=row.created_at,
    )


@scoped_by_tenant
class SqlEventStore(EngineStore):
    def read_after(
        self,
        tenant_id: str,
        after: FeedPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
    ) -> list[StoredEvent]:
        place = tuple_(outbox.c.txid, outbox.c.position)
        query = select(*EVENT_COLUMNS).where(
            outbox.c.tenant_id == tenant_id, place > tuple_(after.txid, after.position)
        )
        if self.postgres:
            query = query.where(outbox.c.txid < _OLDEST_RUNNING)
        if event_types:
            query = query.where(outbox.c.event_type.in_(list(event_types)))
        query = query.order_by(outbox.c.txid, outbox.c.position).limit(limit)
        with self.engine.connect() as connection:
            return [stored_event(row) for row in connection.execute(query)]

    @contextmanager
    def claim(self, tenant_id: str, sink: str) -> Iterator[_Claim | None]:
        with tenant_scope(tenant_id):
            if self.postgres:
                with self._postgres_claim(tenant_id, sink) as claim:
                    yield claim
            else:
                with self._process_claim(tenant_id, sink) as claim:
                    yield claim

    def sink_positions(self, tenant_id: str) -> dict[str, FeedPosition]:
        table = event_sink_cursors
        query = select(table.c.sink, table.c.txid, table.c.position).where(
            table.c.tenant_id == tenant_id
        )
        with self.engine.connect() as connection:
            return {
                row.sink: FeedPosition(row.txid, row.position) for row in connection.execute(query)
            }

    def sink_moved_at(self, tenant_id: str) -> dict[str, datetime]:
        table = event_sink_cursors
        query = select(table.c.sink, table.c.updated_at).where(table.c.tenant_id == tenant_id)
        with self.engine.connect() as connection:
            return {row.sink: row.updated_at for row in connection.execute(query)}

    def prune(self, tenant_id: str, passed: FeedPosition, older_than: datetime, limit: int) -> int:
        place = tuple_(outbox.c.txid, outbox.c.position)
        chosen = (
            select(outbox.c.event_id)
            .where(
                outbox.c.tenant_id == tenant_id,
                place <= tuple_(passed.txid, passed.position),
                outbox.c.created_at < older_than,
            )
            .order_by(outbox.c.txid, outbox.c.position)
            .limit(limit)
        )
        statement = delete(outbox).where(
            outbox.c.tenant_id == tenant_id, outbox.c.event_id.in_(chosen.scalar_subquery())
        )
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount

    @contextmanager
    def _postgres_claim(self, tenant_id: str, sink: str) -> Iterator[_Claim | None]:
        name = {"name": f"rewardledger.sink:{tenant_id}:{sink}"}
        with self.engine.connect() as connection:
            held = bool(connection.execute(text(_LOCK), name).scalar_one())
            connection.commit()
            if not held:
                yield None
                return
            try:
                yield _Claim(connection, tenant_id, sink, self._place(connection, tenant_id, sink))
            finally:
                connection.rollback()
                connection.execute(text(_UNLOCK), name)
                connection.commit()

    @contextmanager
    def _process_claim(self, tenant_id: str, sink: str) -> Iterator[_Claim | None]:
        with _process_claims_guard:
            lock = _process_claims.setdefault((id(self.engine), tenant_id, sink), threading.Lock())
        if not lock.acquire(blocking=False):
            yield None
            return
        try:
            with self.engine.connect() as connection:
                yield _Claim(connection, tenant_id, sink, self._place(connection, tenant_id, sink))
        finally:
            lock.release()

    @staticmethod
    def _place(connection: Connection, tenant_id: str, sink: str) -> FeedPosition:
        table = event_sink_cursors
        row = connection.execute(
            select(table.c.txid, table.c.position).where(
                table.c.tenant_id == tenant_id, table.c.sink == sink
            )
        ).one_or_none()
        connection.commit()
        return FeedPosition(-1, -1) if row is None else FeedPosition(row.txid, row.position)


class _Claim:
    """A sink held for one batch (``events.port.SinkClaim``), on the connection that holds it."""

    def __init__(
        self, connection: Connection, tenant_id: str, sink: str, position: FeedPosition
    ) -> None:
        self._connection = connection
        self._tenant_id = tenant_id
        self._sink = sink
        self._position = position

    @property
    def position(self) -> FeedPosition:
        return self._position

    def advance(self, to: FeedPosition, now: datetime) -> None:
        table = event_sink_cursors
        dialect: Any = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).values(
            tenant_id=self._tenant_id,
            sink=self._sink,
            txid=to.txid,
            position=to.position,
            updated_at=now,
        )
        later = tuple_(table.c.txid, table.c.position) < tuple_(
            statement.excluded.txid, statement.excluded.position
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.sink],
            set_={
                "txid": statement.excluded.txid,
                "position": statement.excluded.position,
                "updated_at": statement.excluded.updated_at,
            },
            where=and_(later),
        )
        self._connection.execute(statement)
        self._connection.commit()
        self._position = max(self._position, to)
