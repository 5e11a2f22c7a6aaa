"""Fixtures for the command-line tests (helpers are in ``tests.cli.helpers``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Cli, fresh_postgres_schema


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where ``serve`` keeps the demo key in these tests: never the user's own state folder."""
    folder = tmp_path / "state"
    monkeypatch.setenv("REWARDLEDGER_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def cli(db_url: str) -> Cli:
    """``rewardledger --db <the engine under test's database> ...``"""
    return Cli(db_url)


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test uses (the session's database is shared)."""
    return f"cli{secrets.token_hex(5)}"


@pytest.fixture
def empty_db_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any tenant, for what reads the whole database (serve, verify of
    every tenant). On PostgreSQL: a schema of its own beside the session's, dropped after."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_postgres_schema(str(request.getfixturevalue("postgres_url"))) as url:
        yield url
