"""Column types that behave the same on SQLite and PostgreSQL.

Owns: how instants and JSON documents are stored. Instants are stored in UTC (timestamptz on
PostgreSQL, fixed-width UTC text on SQLite, so they compare correctly as text) and always come
back as aware ``datetime`` values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant stored in UTC; naive datetimes are refused (programmer error)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert value.tzinfo is not None, "naive datetimes never reach storage"
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def Json() -> Any:  # noqa: N802 - reads as a type in table definitions
    """JSON on SQLite, JSONB on PostgreSQL (so metadata can be indexed and queried there)."""
    return JSON().with_variant(JSONB(), "postgresql")
