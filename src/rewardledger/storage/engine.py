"""Connecting to the database: one SQLAlchemy engine per process, tuned per dialect.

Owns: URL handling, SQLite's pragmas and transaction mode, and the classification of driver
errors into "retry this" and "this id already exists".

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed transfer survives a power cut)
and one writer at a time: a write transaction starts with ``BEGIN IMMEDIATE`` so that it takes
the write lock before it reads what it checks. Reads start a plain deferred transaction and
never block the writer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from rewardledger.domain.errors import DatabaseUnavailable, ValidationError
from rewardledger.storage import tenancy

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Page cache per connection. A write touches the journal, two history indexes, the outbox and
# the accounts; SQLite's default 2 MiB keeps too few of their pages once a ledger grows
# (measured: about 2,300 against 2,800 transfers/s with 1,000 active accounts).
SQLITE_CACHE_KIB = 64 * 1024
POSTGRES_POOL_SIZE = 10
POSTGRES_POOL_OVERFLOW_MAX = 10

# The database every PostgreSQL server has, where ``create_database`` connects to create another.
POSTGRES_MAINTENANCE_DATABASE = "postgres"
# SQLSTATE of a connection to a database that does not exist (invalid_catalog_name). psycopg
# does not carry it on a failed connection, so the server's sentence is matched as well.
_MISSING_DATABASE_SQLSTATE = "3D000"
_MISSING_DATABASE_MESSAGE = re.compile(r'database "[^"]*" does not exist')

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
    engine = create_engine(
        parsed,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_POOL_OVERFLOW_MAX,
        # No pre-ping: it costs a round trip per checkout on the hot path. Write sessions
        # check the connection's state instead, and retry on a dropped connection.
        pool_pre_ping=False,
        connect_args={"application_name": "rewardledger"},
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, args: Any, kwargs: Any) -> Any:
        # Each transaction's BEGIN sets the tenant for row-level security (storage.tenancy).
        return tenancy.connect(*args, **kwargs)

    return engine


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


def is_missing_database(error: BaseException) -> bool:
    """Whether ``error`` says that the PostgreSQL database connected to does not exist."""
    if sqlstate(error) == _MISSING_DATABASE_SQLSTATE:
        return True
    original = error.orig if isinstance(error, DBAPIError) else error
    return _MISSING_DATABASE_MESSAGE.search(str(original)) is not None


def missing_database_hint(parsed: URL) -> str:
    """What to do about a PostgreSQL database at ``parsed`` that does not exist."""
    parsed = parsed.set(drivername="postgresql")  # as the user writes it
    createdb = ["createdb"]
    if parsed.host:
        createdb += ["-h", parsed.host]
    if parsed.port:
        createdb += ["-p", str(parsed.port)]
    if parsed.username:
        createdb += ["-U", parsed.username]
    createdb.append(parsed.database or "DATABASE")
    return (
        f"The database {parsed.database!r} does not exist on that server: create it with "
        f"`{' '.join(createdb)}`, or start with "
        f"`rewardledger --db {parsed.render_as_string(hide_password=True)} serve --create-db`, "
        "which creates it."
    )


def create_database(url: str) -> bool:
    """Create the database ``url`` names, if it does not exist; True when it was created.

    PostgreSQL: connects to the server's ``postgres`` maintenance database as the URL's user
    (who needs the CREATEDB privilege) and runs ``CREATE DATABASE``. SQLite: creates the file's
    folder (the file itself is created when it is first opened).
    """
    parsed = normalise_url(url)
    if parsed.drivername.startswith("sqlite"):
        folder = Path(parsed.database or ".").parent
        if folder.is_dir():
            return False
        folder.mkdir(parents=True)
        return True
    name = parsed.database
    if not name:
        raise ValidationError(
            "The PostgreSQL URL names no database; add one, as in "
            "postgresql://user@host:5432/loyalty.",
            field="database_url",
        )
    maintenance = create_engine(
        parsed.set(database=POSTGRES_MAINTENANCE_DATABASE), isolation_level="AUTOCOMMIT"
    )
    try:
        with maintenance.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is not None:
                return False
            quoted = maintenance.dialect.identifier_preparer.quote_identifier(name)
            connection.exec_driver_sql(f"CREATE DATABASE {quoted}")
    except DBAPIError as error:
        if sqlstate(error) == "42P04":  # created by another process in between
            return False
        reason = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        raise DatabaseUnavailable(
            safe_url(url),
            reason or type(error.orig).__name__,
            f"Creating a database connects to {POSTGRES_MAINTENANCE_DATABASE!r} and needs the "
            "CREATEDB privilege; create it yourself with createdb, or ask the server's admin.",
        ) from error
    finally:
        maintenance.dispose()
    return True
