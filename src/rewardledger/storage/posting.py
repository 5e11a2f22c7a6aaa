"""The write path of the journal: one transaction that locks, checks, appends and commits.

Owns: the statements the ledger engine runs for every transfer, and their execution.
Protects invariants 2 and 3 under concurrency: accounts are locked before they are read
(``SELECT ... ORDER BY account_id FOR UPDATE`` on PostgreSQL, one writer at a time on SQLite),
and the journal rows, the new account totals, holds and outbox events are written in the same
transaction, or none of them is.

Why not plain SQLAlchemy ``Connection.execute`` here: the statements are generated from the
Core tables in ``schema.py``, but they run on the driver connection. On PostgreSQL every change
of a write is one statement (data-modifying CTEs: the journal, the outbox, holds and account
totals), so one transfer takes four round trips (BEGIN, lock, write, COMMIT) where
statement-by-statement execution took eight; a small write binds its rows as scalar VALUES,
a large one COPYs its journal and outbox rows and passes the rest as arrays. On SQLite the same
steps run with execute and executemany. Measured against a plain psycopg transfer in
``bench/``; see docs/performance.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from psycopg import OperationalError as PgOperationalError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from rewardledger.domain.errors import DuplicateIdError, RetryableError
from rewardledger.storage.engine import is_retryable, sqlstate
from rewardledger.storage.tenancy import tenant_scope
from rewardledger.storage.write_postgres import PostgresStatements, PostgresWriteSession
from rewardledger.storage.write_rows import (
    ACCOUNT_TOTALS,
    ACCOUNT_VALUES,
    HOLD_COLUMNS,
    OUTBOX_COLUMNS,
    TRANSFER_COLUMNS,
    UNIQUE_VIOLATION,
    Codec,
    new_event_id,
)
from rewardledger.storage.write_sqlite import SqliteStatements, SqliteWriteSession

__all__ = [
    "ACCOUNT_TOTALS",
    "ACCOUNT_VALUES",
    "HOLD_COLUMNS",
    "OUTBOX_COLUMNS",
    "TRANSFER_COLUMNS",
    "PostgresWriteSession",
    "SqliteWriteSession",
    "WriteSessions",
    "new_event_id",
    "translated_errors",
]


class WriteSessions:
    """Opens write sessions: on PostgreSQL on the engine's pooled driver connections; on SQLite
    on one connection per thread, kept open, since a SQLite connection is cheap to hold and the
    pool's checkout and return cost about as much as the rest of a transfer in Python."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._codec = Codec(engine.dialect)
        self._postgres = engine.dialect.name == "postgresql"
        self._pg_sql = PostgresStatements(engine.dialect) if self._postgres else None
        self._sqlite_sql = None if self._postgres else SqliteStatements()
        self._local = threading.local()
        self._held: list[Any] = []
        self._held_lock = threading.Lock()

    def close(self) -> None:
        """Close the per-thread SQLite connections (the pool closes the others)."""
        with self._held_lock:
            for connection in self._held:
                connection.close()
            self._held.clear()
        self._local = threading.local()

    def within(self, driver: Any, tenant_id: str) -> PostgresWriteSession | SqliteWriteSession:
        """A session on ``driver``, a connection whose transaction someone else opened and
        will commit (a unit of work): its ``commit`` must not be called."""
        if self._pg_sql is not None:
            return PostgresWriteSession(driver, self._pg_sql, self._codec, tenant_id)
        assert self._sqlite_sql is not None
        return SqliteWriteSession(driver, self._sqlite_sql, self._codec, tenant_id)

    def open(self, tenant_id: str) -> AbstractContextManager[Any]:
        if self._pg_sql is not None:
            return self._open_postgres(self._pg_sql, tenant_id)
        assert self._sqlite_sql is not None
        return self._open_sqlite(self._sqlite_sql, tenant_id)

    @contextmanager
    def _open_postgres(
        self, statements: PostgresStatements, tenant_id: str
    ) -> Iterator[PostgresWriteSession]:
        if statements.copy_allowed is None:
            with self._engine.connect() as connection:
                query = statements.copy_allowed_query
                statements.copy_allowed = bool(connection.exec_driver_sql(query).scalar())
        with tenant_scope(tenant_id):
            yield from self._open_postgres_scoped(statements, tenant_id)

    def _open_postgres_scoped(
        self, statements: PostgresStatements, tenant_id: str
    ) -> Iterator[PostgresWriteSession]:
        raw = self._engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            if driver.broken:
                # Pooled connections are not pinged on checkout (a round trip per write);
                # a connection the server dropped is found here or fails and is retried.
                raw.invalidate()
                raw = self._engine.raw_connection()
                driver = raw.driver_connection
            with translated_errors():
                session = PostgresWriteSession(driver, statements, self._codec, tenant_id)
                try:
                    yield session
                finally:
                    if not session.committed and not driver.closed:
                        driver.rollback()
        finally:
            raw.close()

    @contextmanager
    def _open_sqlite(
        self, statements: SqliteStatements, tenant_id: str
    ) -> Iterator[SqliteWriteSession]:
        driver: Any = getattr(self._local, "connection", None)
        if driver is None:
            proxy = self._engine.raw_connection()
            driver = proxy.driver_connection
            proxy.detach()  # ours from now on: the pool neither reuses nor resets it
            self._local.connection = driver
            with self._held_lock:
                self._held.append(proxy)
        with translated_errors():
            driver.execute("BEGIN IMMEDIATE")
            session = SqliteWriteSession(driver, statements, self._codec, tenant_id)
            try:
                yield session
            finally:
                if not session.committed and driver.in_transaction:
                    driver.execute("ROLLBACK")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn the driver's duplicate-id and contention errors into the ledger's port errors."""
    try:
        yield
    except Exception as error:
        if isinstance(error, DBAPIError) and error.orig is not None:
            # A service's statement, run through SQLAlchemy: judge the driver's error.
            if error.connection_invalidated or is_retryable(error):
                raise RetryableError(str(error.orig)) from error
            if sqlstate(error) == UNIQUE_VIOLATION or (
                isinstance(error, IntegrityError)
                and ("unique constraint failed" in str(error.orig).lower())
            ):
                raise DuplicateIdError(str(error.orig)) from error
            raise
        if is_retryable(error) or isinstance(error, PgOperationalError):
            raise RetryableError(str(error)) from error
        taken = _journal_key_taken(error)
        if taken == "transfer_id":
            raise DuplicateIdError(str(error)) from error
        if taken == "pending_id":
            # A concurrent resolution of the same pending transfer won; on retry its hold is
            # gone and this one is refused as not_pending.
            raise RetryableError(str(error)) from error
        raise


def _journal_key_taken(error: BaseException) -> str | None:
    """Which unique journal key a write collided with: "transfer_id", "pending_id" or None."""
    state = sqlstate(error)
    if state is not None:
        if state != UNIQUE_VIOLATION:
            return None
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        return _TAKEN_BY_CONSTRAINT.get(constraint or "")
    # A trigger refusing a taken key (migration 0005) adds " (why)" to SQLite's own message.
    return _TAKEN_BY_SQLITE_MESSAGE.get(str(error).split(" (", 1)[0])


# A hold is keyed by its pending transfer's id, and the parts of one PostgreSQL write run in no
# fixed order, so a replayed pending transfer may collide on the hold before the journal row.
_TAKEN_BY_CONSTRAINT = {
    "pk_transfers": "transfer_id",
    "pk_holds": "transfer_id",
    "ix_transfers_one_resolution": "pending_id",
}
_TAKEN_BY_SQLITE_MESSAGE = {
    "UNIQUE constraint failed: transfers.tenant_id, transfers.transfer_id": "transfer_id",
    "UNIQUE constraint failed: holds.tenant_id, holds.transfer_id": "transfer_id",
    "UNIQUE constraint failed: transfers.tenant_id, transfers.pending_id": "pending_id",
}
