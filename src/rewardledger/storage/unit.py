"""Transactions that the services' stores run in: ``SqlUnit`` (write) and ``SqlSnapshot`` (read).

Owns: the concrete side of ``rewardledger.ledger.storage_unit`` and the one checked way back
from that protocol to a SQLAlchemy connection (``connection_of``), used by every store. Also
the outbox rows a unit writes with the rest of its transaction (rule 9).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert

from rewardledger.domain.events import OutboxEvent
from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.storage.posting import PostgresWriteSession, SqliteWriteSession, new_event_id
from rewardledger.storage.schema import outbox
from rewardledger.storage.tenancy import tenant_scope


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
    """

    def __init__(
        self,
        tenant_id: str,
        connection: Connection,
        session: PostgresWriteSession | SqliteWriteSession,
    ) -> None:
        super().__init__(tenant_id, connection)
        self.session = session
        self.committed = False

    def write_events(self, events: Sequence[OutboxEvent], now: datetime) -> None:
        if events:
            self.connection.execute(
                insert(outbox), [event_row(self.tenant_id, event, now) for event in events]
            )

    def commit(self) -> None:
        self.connection.commit()
        self.committed = True


def connection_of(unit: ReadUnit) -> Connection:
    """The SQLAlchemy connection of a unit or snapshot that this package opened."""
    if not isinstance(unit, SqlTransaction):
        raise TypeError(
            f"{type(unit).__name__} is not a transaction of rewardledger.storage; "
            "pass the unit of work or snapshot that the store opened."
        )
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
