"""``SqlStore``: the ledger's storage on SQLite or PostgreSQL, through SQLAlchemy 2 Core.

Owns: opening the engine, the unit of work and the write sessions. The queries outside the hot
write path (which is in ``posting.py``) live in one module per group and are mixed in here:
``directory`` (tenants, assets, accounts, access keys), ``journal_reads`` (journal, history,
holds), ``listing`` (pages of accounts and transfers), ``integrity`` (verify's aggregates and
repairs), ``seals`` (digests and seals) and ``keyed`` (the answers of keyed set-up writes).
Protects invariant 8: every statement is filtered by ``tenant_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg

from rewardledger.storage import migrate as migrations
from rewardledger.storage.directory import DirectoryQueries
from rewardledger.storage.engine import make_engine, safe_url
from rewardledger.storage.integrity import IntegrityQueries
from rewardledger.storage.journal_reads import JournalQueries
from rewardledger.storage.keyed import KeyedWriteQueries
from rewardledger.storage.listing import ListQueries
from rewardledger.storage.posting import (
    PostgresWriteSession,
    SqliteWriteSession,
    WriteSessions,
    translated_errors,
)
from rewardledger.storage.seals import SealQueries
from rewardledger.storage.tenancy import scoped_by_tenant, tenant_scope
from rewardledger.storage.unit import SqlUnit


@scoped_by_tenant
class SqlStore(
    DirectoryQueries,
    ListQueries,
    JournalQueries,
    IntegrityQueries,
    SealQueries,
    KeyedWriteQueries,
):
    """Implements ``rewardledger.ledger.ports.Store`` on one SQLAlchemy engine."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._shown_url = safe_url(url)
        self.dialect = self.engine.dialect.name
        self._sessions = WriteSessions(self.engine)

    def close(self) -> None:
        self._sessions.close()
        self.engine.dispose()

    @contextmanager
    def unit_of_work(self, tenant_id: str) -> Iterator[SqlUnit]:
        """Open one write transaction (``BEGIN IMMEDIATE`` on SQLite) for a service's use case.

        Contention and unique-key collisions, whether raised by the journal's statements or by
        a service's, come out as ``RetryableError`` and ``DuplicateIdError``.
        """
        with (
            tenant_scope(tenant_id),
            translated_errors(),
            self.engine.connect() as connection,
        ):
            connection.execution_options(rewardledger_write=True)
            connection.begin()
            driver: Any = connection.connection.driver_connection
            session = self._sessions.within(driver, tenant_id)
            postgres = driver if isinstance(driver, psycopg.Connection) else None
            unit = SqlUnit(tenant_id, connection, session, postgres)
            try:
                yield unit
            finally:
                if not unit.committed:
                    connection.rollback()

    def ping(self) -> None:
        """Connect once, so that an unreachable database is reported at start-up."""
        with self._unavailable(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def migrate(self) -> None:
        with self._unavailable():
            migrations.upgrade(self.engine)

    def write_session(
        self, tenant_id: str
    ) -> AbstractContextManager[PostgresWriteSession | SqliteWriteSession]:
        return self._sessions.open(tenant_id)

    def schema_revision(self) -> str | None:
        return migrations.current_revision(self.engine)
