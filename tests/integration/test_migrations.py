from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rewardledger.ledger.engine import Ledger
from rewardledger.storage import migrate
from rewardledger.storage.tables import metadata
from tests.conftest import owner_engine


def test_the_migrated_schema_matches_the_core_tables(ledger: Ledger) -> None:
    engine = owner_engine(ledger)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_migrating_an_up_to_date_database_changes_nothing(ledger: Ledger) -> None:
    engine = owner_engine(ledger)
    assert migrate.current_revision(engine) == migrate.head_revision()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_sqlite_tables_are_keyed_without_a_rowid(ledger: Ledger) -> None:
    from sqlalchemy import text

    engine = owner_engine(ledger)
    if engine.dialect.name != "sqlite":
        pytest.skip("WITHOUT ROWID is a SQLite storage option")
    with engine.connect() as connection:
        ddl = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            ).all()
        )
    for table in metadata.tables:
        assert ddl[table].rstrip().endswith("WITHOUT ROWID"), table
