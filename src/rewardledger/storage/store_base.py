"""The connections every ``SqlStore`` query runs on: short reads, short writes, insert-once.

Owns: how a query outside the hot write path gets its connection (a write is one short
transaction, ``BEGIN IMMEDIATE`` on SQLite), and how contention and an unreachable database
are reported (``RetryableError``, ``DatabaseUnavailable``); and ``EngineStore``, what the
extension stores (events, jobs, worker runs, webhooks) keep of their engine. Protects
convention 9: a helper here never commits anything but its own statement group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from rewardledger.domain.errors import DatabaseUnavailable, RetryableError
from rewardledger.domain.events import OutboxEvent
from rewardledger.storage.engine import is_missing_database, is_retryable, missing_database_hint
from rewardledger.storage.schema import outbox
from rewardledger.storage.tenancy import tenant_scope
from rewardledger.storage.unit import event_row


class EngineStore:
    """A store that opens its own short transactions on ``engine``. ``postgres`` says which
    engine's statements to build; ``_dialect_insert`` is that engine's INSERT, the one with
    ON CONFLICT clauses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._dialect_insert: Any = postgresql.insert if self.postgres else sqlite.insert


class EngineReads:
    """Reads in a connection of their own, for a store that holds an ``engine``."""

    engine: Engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def _read_column(self, query: Select[Any]) -> list[Any]:
        """The values of the one column ``query`` selects, in its order."""
        with self._read() as connection:
            return list(connection.execute(query).scalars())


class StoreConnections(EngineReads):
    """The engine and the connection helpers that the query groups of ``SqlStore`` share."""

    dialect: str
    _shown_url: str

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Report a database that cannot be reached or opened as ``database_unavailable``."""
        try:
            yield
        except (OperationalError, OSError) as error:
            original = getattr(error, "orig", None) or error
            reason = str(original).strip().splitlines()[0] if str(original).strip() else ""
            if self.dialect == "sqlite":
                hint = (
                    "Check that the file's folder exists and is writable (`serve --create-db` "
                    "creates the folder)."
                )
            elif is_missing_database(error):
                hint = missing_database_hint(self.engine.url)
            else:
                hint = (
                    "Check that the server is running and that the URL's host, port, user "
                    "and database are right."
                )
            raise DatabaseUnavailable(
                self._shown_url, reason or type(original).__name__, hint
            ) from error

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A short write transaction outside the hot path (BEGIN IMMEDIATE on SQLite)."""
        try:
            with self.engine.connect() as connection:
                connection.execution_options(rewardledger_write=True)
                with connection.begin():
                    yield connection
        except OperationalError as error:
            if is_retryable(error):
                raise RetryableError(str(error)) from error
            raise

    def _insert_once(
        self,
        statement: Any,
        tenant_id: str,
        event: OutboxEvent | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Insert a row of ``tenant_id`` that may already exist; False (nothing written) if it
        did. Its ``event``, if any, is written with it at ``now``, only when the row is new. In
        the tenant's scope, which the table's row-level security asks for."""
        try:
            with tenant_scope(tenant_id), self._write() as connection:
                connection.execute(statement)
                if event is not None:
                    assert now is not None, "an event is written with its time"
                    connection.execute(insert(outbox), [event_row(tenant_id, event, now)])
        except IntegrityError:
            return False
        return True
