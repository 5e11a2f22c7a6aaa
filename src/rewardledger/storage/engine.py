"""Connecting to the database: one SQLAlchemy engine per process, tuned per dialect.

Owns: URL handling, SQLite's pragmas and transaction mode, and the classification of driver
errors into "retry this" and "this id already exists".

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed transfer survives a power cut)
and one writer at a time: a write transaction starts with ``BEGIN IMMEDIATE`` so that it takes
the write lock before it reads what it checks. Reads start a plain deferred transaction and
never block the writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from rewardledger.domain.errors import ValidationError

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Page cache per connection. A write touches the journal, two history indexes, the outbox and
# the accounts; SQLite's default 2 MiB keeps too few of their pages once a ledger grows
# (measured: about 2,300 against 2,800 transfers/s with 1,000 active accounts).
SQLITE_CACHE_KIB = 64 * 1024
POSTGRES_POOL_SIZE = 10
POSTGRES_POOL_OVERFLOW_MAX = 10

# SQLSTATEs worth retrying: serialization failure, deadlock, lock not available.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def normalise_url(url: str) -> URL:
    """Accept ``postgresql://`` and ``sqlite:///`` URLs; use psycopg 3 for PostgreSQL."""
    try:
        parsed = make_url(url)
    except Exception as error:
        raise ValidationError(
            f"{url!r} is not a database URL; use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/database.",
            field="database_url",
        ) from error
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+pysqlite")
    raise ValidationError(
        f"rewardledger runs on SQLite or PostgreSQL, not {parsed.drivername!r}; use "
        "sqlite:///path/to/file.db or postgresql://user@host:5432/database.",
        field="database_url",
    )


def safe_url(url: str) -> str:
    """The URL as the user wrote it, with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL too malformed to parse is shown as nothing
        return "<the database URL>"


def make_engine(url: str) -> Engine:
    parsed = normalise_url(url)
    if parsed.drivername.startswith("sqlite"):
        return _sqlite_engine(parsed)
    return create_engine(
        parsed,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_POOL_OVERFLOW_MAX,
        # No pre-ping: it costs a round trip per checkout on the hot path. Write sessions
        # check the connection's state instead, and retry on a dropped connection.
        pool_pre_ping=False,
        connect_args={"application_name": "rewardledger"},
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database in (None, "", ":memory:"):
        raise ValidationError(
            "An in-memory SQLite database cannot be shared between connections; "
            "give a file path such as sqlite:///./rewardledger.db.",
            field="database_url",
        )
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the sqlite3 module: we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("rewardledger_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def sqlstate(error: BaseException) -> str | None:
    original = error.orig if isinstance(error, DBAPIError) else error
    return getattr(original, "sqlstate", None)


def is_retryable(error: BaseException) -> bool:
    """Deadlocks, serialization failures and a SQLite database still locked after the timeout."""
    state = sqlstate(error)
    if state in _RETRYABLE_SQLSTATES:
        return True
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text
