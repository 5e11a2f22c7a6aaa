"""Transactions that the services' stores run in: ``SqlUnit`` (write) and ``SqlSnapshot`` (read).

Owns: the concrete side of ``rewardledger.ledger.storage_unit`` and the one checked way back
from that protocol to a SQLAlchemy connection (``connection_of``), used by every store. Also
the outbox rows a unit writes with the rest of its transaction (rule 9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql

from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.transfers import PendingRow
from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.storage.posting import PostgresWriteSession, SqliteWriteSession, new_event_id
from rewardledger.storage.schema import outbox
from rewardledger.storage.tenancy import TenantConnection, tenant_scope
from rewardledger.storage.write_postgres import rows_after_kept, unique_is_duplicate, unnest_insert

_OUTBOX_INSERT = (
    "INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, created_at) "
    "VALUES (%(tenant_id)s, %(event_id)s, %(event_type)s, %(subject_id)s, %(payload)s, "
    "%(created_at)s)"
)

OUTBOX_NAMES = ("tenant_id", "event_id", "event_type", "subject_id", "payload", "created_at")
POSTGRES = postgresql.dialect()  # type: ignore[no-untyped-call]
_OUTBOX_INSERT_SET = unnest_insert(outbox, OUTBOX_NAMES, POSTGRES)
# From this many rows on (an import's lots, a rebuild's events), a write of a unit's is one
# statement for all rows (``write_columns``) rather than one kept statement per row.
SET_ROWS_MIN = 8


class SqlTransaction:
    """A transaction on one tenant's rows, open on ``connection``."""

    def __init__(self, tenant_id: str, connection: Connection) -> None:
        self.tenant_id = tenant_id
        self.connection = connection


class SqlSnapshot(SqlTransaction):
    """A read-only transaction whose reads all see one state of the database (REPEATABLE READ
    on PostgreSQL; on SQLite in WAL mode a read transaction is a snapshot already)."""


class SqlUnit(SqlTransaction):
    """One write transaction on one tenant, shared by the journal and a service's tables.

    Implements ``rewardledger.ledger.storage_unit.StorageUnit``. ``session`` runs the journal's
    statements on the driver connection under ``connection``, a SQLAlchemy connection in the
    same transaction, on which the services' stores run theirs.

    Writes whose result nothing reads (a lot's new state, an outbox row) can be handed to
    ``later``: on PostgreSQL they are kept and sent in one round trip with the unit's next
    statement, or with its COMMIT, so a use case that ends with writes pays one round trip for
    all of them and the commit. Program order is kept: any statement of the unit (through
    ``connection_of`` or ``session``) sends what is kept first, so a read sees every write
    made before it; the journal's session sends them in the round trip of its own next
    statement (its lock), before it. On SQLite, where a statement costs no round trip, they
    run at once.
    """

    def __init__(
        self,
        tenant_id: str,
        connection: Connection,
        session: PostgresWriteSession | SqliteWriteSession,
        driver: psycopg.Connection[Any] | None = None,
    ) -> None:
        super().__init__(tenant_id, connection)
        self._session = session
        self._driver = driver
        self._binder: psycopg.ClientCursor[Any] | None = None
        self._kept: list[str] = []
        self.committed = False
        if isinstance(session, PostgresWriteSession):
            session.take_kept = self._take_kept

    @property
    def session(self) -> PostgresWriteSession | SqliteWriteSession:
        if not isinstance(self._session, PostgresWriteSession):
            self.flush()
        return self._session  # on PostgreSQL it sends what is kept with its next statement

    def _take_kept(self) -> list[str]:
        kept, self._kept = self._kept, []
        return kept

    def know_pending(self, rows: Sequence[PendingRow]) -> None:
        """Pending journal rows this unit read already (``WriteSession.pending_rows`` then
        answers them without a statement, on PostgreSQL); a journal row never changes."""
        if isinstance(self._session, PostgresWriteSession):
            self._session.know_pending(rows)

    def later(
        self,
        postgres_sql: str,
        rows: Sequence[Mapping[str, Any]],
        at_once: Callable[[Connection], object],
    ) -> None:
        """Write ``rows`` with ``postgres_sql`` (psycopg ``%(name)s`` parameters, one statement
        per row) with the unit's next statement; on SQLite run ``at_once`` now instead."""
        if not rows:
            return
        if self._driver is None:
            at_once(self.connection)
            return
        self._kept.extend(self._bound(postgres_sql, row) for row in rows)

    def write_columns(
        self,
        postgres_sql: str,
        columns: Mapping[str, Sequence[Any]],
        at_once: Callable[[Connection], object],
        scalars: Mapping[str, Any] | None = None,
    ) -> None:
        """Write many rows in ONE statement, now: ``postgres_sql`` takes one array per column
        (``unnest``, psycopg ``%(name)b``) and the ``scalars`` all rows share, so its cost on
        the server does not grow with the rows. Bound on the server, in binary: for a batch's
        thousands of values that beats binding them into the text of a kept write by far more
        than the round trip it costs. On SQLite ``at_once`` runs instead (an executemany)."""
        if not any(columns.values()):
            return
        if self._driver is None:
            at_once(self.connection)
            return
        self.flush()  # program order: what was kept goes first
        params = {name: list(values) for name, values in columns.items()}
        with unique_is_duplicate():
            self._driver.execute(postgres_sql, {**params, **(scalars or {})})

    @property
    def postgres(self) -> bool:
        return self._driver is not None

    def read_together(
        self, statements: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[list[dict[str, Any]]]:
        """PostgreSQL only: run the kept writes and then ``statements`` in one round trip, and
        return each statement's rows. Each statement still sees what committed before it
        started (READ COMMITTED takes a snapshot per statement), so a read placed after a lock
        sees every change the lock waited for."""
        assert self._driver is not None, "read_together is for PostgreSQL units"
        kept, self._kept = self._kept, []
        bound = [self._bound(q, p) for q, p in statements]
        with self._begun() as begin, unique_is_duplicate():
            first = [*begin, *kept]
            with self._driver.cursor(row_factory=dict_row) as cursor:
                cursor.execute(";\n".join([*first, *bound]))
                return rows_after_kept(cursor, len(first), len(statements))

    def fetch(
        self, postgres_sql: str, params: Mapping[str, Any], *, names: bool = False
    ) -> tuple[list[tuple[Any, ...]], list[str]]:
        """PostgreSQL only: the rows of one statement (psycopg ``%(name)s`` parameters) as
        tuples, and with ``names`` its column names, on the driver connection, without
        SQLAlchemy's result machinery; bound on the server (and prepared by psycopg once it
        repeats), or, when writes are kept, bound here and sent after them in one round trip."""
        assert self._driver is not None, "fetch is for PostgreSQL units"
        kept, self._kept = self._kept, []
        # Not begun by this statement (BEGIN in a round trip of its own, as psycopg sends it):
        # bound on the server, a repeated lock keeps its plan there (psycopg prepares it);
        # bound here to share the BEGIN's round trip, the server plans it on every call, and
        # that cost more than the round trip saved (docs/performance.md, issue 11).
        with unique_is_duplicate(), self._driver.cursor() as cursor:
            if kept:
                cursor.execute(";\n".join([*kept, self._bound(postgres_sql, params)]))
                for _ in kept:
                    cursor.nextset()
            else:
                cursor.execute(postgres_sql, params)
            described = [column.name for column in cursor.description or ()] if names else []
            return cursor.fetchall(), described

    def _begun(self) -> AbstractContextManager[list[str]]:
        """The unit's BEGIN, to lead its first statement's message (``TenantConnection``): the
        transaction then begins in that statement's round trip, not in one of its own. For
        statements bound here anyway (``read_together``)."""
        if isinstance(self._driver, TenantConnection):
            return self._driver.begun_by_statement()
        return nullcontext([])

    def _bound(self, sql: str, params: Mapping[str, Any]) -> str:
        if self._binder is None:
            assert self._driver is not None
            self._binder = psycopg.ClientCursor(self._driver)  # binds only: sends nothing
        return self._binder.mogrify(sql, params)

    def flush(self) -> None:
        """Send the kept writes now (before another statement of the unit)."""
        if self._kept:
            self._send(self._kept)

    def _send(self, statements: list[str]) -> None:
        assert self._driver is not None
        sql = ";\n".join(statements)
        self._kept = []
        with unique_is_duplicate():
            self._driver.execute(sql)

    def write_events(self, events: Sequence[OutboxEvent], now: datetime) -> None:
        rows = [event_row(self.tenant_id, event, now) for event in events]
        if self._driver is not None:
            for row in rows:
                row["payload"] = None if row["payload"] is None else Jsonb(row["payload"])

        def at_once(connection: Connection) -> None:
            connection.execute(insert(outbox), rows)

        if len(rows) < SET_ROWS_MIN:
            self.later(_OUTBOX_INSERT, rows, at_once)
            return
        # A batch's events (a rebuild's, one per changed row): one statement for all.
        columns = {name: [row[name] for row in rows] for name in OUTBOX_NAMES}
        self.write_columns(_OUTBOX_INSERT_SET, columns, at_once)

    def commit(self) -> None:
        if self._kept:  # the kept writes and the COMMIT, in one round trip
            self._send([*self._kept, "COMMIT"])
        self.connection.commit()
        self.committed = True


def unit_of(unit: ReadUnit) -> SqlUnit:
    """The write unit this package opened (checked), for ``SqlUnit.later``."""
    if not isinstance(unit, SqlUnit):
        raise TypeError(f"{type(unit).__name__} is not a write unit of rewardledger.storage.")
    return unit


def connection_of(unit: ReadUnit) -> Connection:
    """The SQLAlchemy connection of a unit or snapshot that this package opened."""
    if not isinstance(unit, SqlTransaction):
        raise TypeError(
            f"{type(unit).__name__} is not a transaction of rewardledger.storage; "
            "pass the unit of work or snapshot that the store opened."
        )
    if isinstance(unit, SqlUnit):
        unit.flush()
    return unit.connection


@contextmanager
def reading(engine: Engine, unit: ReadUnit | None) -> Iterator[Connection]:
    """The unit's connection when there is one, else a connection of its own for one read."""
    if unit is not None:
        yield connection_of(unit)
        return
    with engine.connect() as connection:
        yield connection


@contextmanager
def snapshot(engine: Engine, tenant_id: str) -> Iterator[SqlSnapshot]:
    """Open a read snapshot on ``tenant_id``'s rows."""
    with tenant_scope(tenant_id), engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with connection.begin():
            yield SqlSnapshot(tenant_id, connection)


def event_row(tenant_id: str, event: OutboxEvent, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "event_id": new_event_id(),
        "event_type": event.event_type,
        "subject_id": event.subject_id,
        "payload": dict(event.payload) if event.payload is not None else None,
        "created_at": now,
    }
