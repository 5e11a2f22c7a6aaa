"""Fixtures for the command-line tests (helpers are in ``tests.cli.helpers``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Cli, fresh_postgres_schema


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
