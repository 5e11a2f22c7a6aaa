"""Schema migrations: bring a database to the current schema, safely from many processes.

Owns: running Alembic programmatically. Two processes starting at once (``serve --workers``,
or several hosts) must not both create the schema: on PostgreSQL the upgrade runs under a
transaction-scoped advisory lock, on SQLite inside a ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

# Any fixed 64-bit number; it only has to be the same in every rewardledger process.
_MIGRATION_LOCK_KEY = 7_163_514_830_211_455_001


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("rewardledger.storage") / "migrations"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate to the newest schema; a no-op when the database is already there."""
    if current_revision(engine) == head_revision():
        return
    config = _config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        else:
            connection.execution_options(rewardledger_write=True)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
