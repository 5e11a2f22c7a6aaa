"""Fixtures of the integration tests that take a database through its migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import fresh_postgres_schema


@pytest.fixture
def fresh_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on the test's engine, not yet migrated (a new SQLite file, or a new
    PostgreSQL schema reached as the owner, dropped afterwards)."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with fresh_postgres_schema(str(request.getfixturevalue("postgres_url"))) as url:
        yield url
