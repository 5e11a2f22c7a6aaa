"""A service's hot SELECT compiled once and run on a unit's driver connection (PostgreSQL).

Owns: ``DriverQuery``, a SQLAlchemy statement compiled once for psycopg and run through
``SqlUnit.fetch``, and ``DriverRow``, its row: attribute access by column label, as a
SQLAlchemy row gives, and the columns under a label prefix as one part (``p_period`` is
``period``). Instants come back in UTC, as ``storage.types.UtcDateTime`` gives them.

Why: a use case's lock statement runs on every call. Through SQLAlchemy each call pays for
its execution context, its result metadata and psycopg's description of every column (40 of
them for a budget's lock); the text and the label positions here are computed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect

from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.storage.unit import unit_of


class DriverPart:
    """The columns of one joined table in a row, under their own names."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


class DriverQuery:
    """``query`` (a SELECT) compiled once for ``dialect``; its named parameters are given
    per call, its constants (anonymous parameters) are bound from the compiled statement."""

    def __init__(self, query: Any, dialect: Dialect, prefixes: tuple[str, ...] = ()) -> None:
        compiled = query.compile(dialect=dialect)
        self.sql = str(compiled)
        self._constants = dict(compiled.params)
        names = list(query.selected_columns.keys())
        self.index = {name: n for n, name in enumerate(names)}
        self.parts = {
            prefix: [
                (n, name[len(prefix) :]) for n, name in enumerate(names) if name.startswith(prefix)
            ]
            for prefix in prefixes
        }

    def first(self, unit: ReadUnit, values: Mapping[str, Any]) -> DriverRow | None:
        rows = unit_of(unit).fetch(self.sql, {**self._constants, **values})
        if not rows:
            return None
        return DriverRow(self, [_utc(value) for value in rows[0]])


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


class DriverRow:
    """One row of a ``DriverQuery``."""

    __slots__ = ("_query", "_values")

    def __init__(self, query: DriverQuery, values: list[Any]) -> None:
        self._query = query
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[self._query.index[name]]
        except KeyError:
            raise AttributeError(name) from None

    def part(self, prefix: str) -> DriverPart:
        values = self._values
        return DriverPart({name: values[n] for n, name in self._query.parts[prefix]})
