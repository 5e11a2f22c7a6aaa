"""Helpers for the command-line tests: an in-process runner and plain SQL beside the ledger."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from click.testing import Result
from psycopg import sql
from sqlalchemy import text
from typer.testing import CliRunner

from rewardledger.cli.main import app
from rewardledger.storage.engine import make_engine
from tests.conftest import as_owner

_SEARCH_PATH = "search_path%3D"
KEY = re.compile(r"rlk_[A-Za-z0-9]+_[A-Za-z0-9_-]+")


class Cli:
    """Runs ``rewardledger --db <url> ...`` in process and returns click's ``Result``."""

    def __init__(self, url: str) -> None:
        self.url = url
        # A wide terminal, so that tables are not folded in the middle of an account id; and
        # no database from the environment, so that only --db decides.
        self._runner = CliRunner(env={"COLUMNS": "200", "REWARDLEDGER_DATABASE_URL": None})

    def __call__(self, *args: str) -> Result:
        return self._runner.invoke(app, ["--db", self.url, *args])

    def without_db(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        return self._runner.invoke(app, list(args), env=env)


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def fresh_postgres_schema(session_url: str) -> Iterator[str]:
    """A URL like the session's, on a new empty schema that is dropped afterwards, as the
    owner (who creates and migrates it)."""
    session_url = as_owner(session_url)
    head, found, _ = session_url.rpartition(_SEARCH_PATH)
    assert found, f"the session's PostgreSQL URL sets no search_path: {session_url}"
    schema = f"rl_cli_{secrets.token_hex(6)}"
    with psycopg.connect(_conninfo(session_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{head}{_SEARCH_PATH}{schema}"
    finally:
        with psycopg.connect(_conninfo(session_url), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def run_sql(url: str, statement: str, **params: object) -> int:
    """Run one statement as plain SQL, behind the ledger's back (as the tables' owner on
    PostgreSQL, whom row-level security does not bind); return its row count."""
    engine = make_engine(as_owner(url))
    try:
        with engine.begin() as connection:
            return connection.execute(text(statement), params).rowcount
    finally:
        engine.dispose()


def scalar(url: str, statement: str, **params: object) -> object:
    """One value read behind the ledger's back, as ``run_sql`` does."""
    engine = make_engine(as_owner(url))
    try:
        with engine.connect() as connection:
            return connection.execute(text(statement), params).scalar_one()
    finally:
        engine.dispose()
