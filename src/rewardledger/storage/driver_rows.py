"""A service's hot SELECT compiled once and run on a unit's driver connection (PostgreSQL).

Owns: ``DriverQuery``, a SQLAlchemy statement compiled once for psycopg and run through
``SqlUnit.fetch`` (``TextQuery``: the same for a constant SQL text), and ``DriverRow``, its
row: attribute access by column label, as a SQLAlchemy row gives, and the columns under a
label prefix as one part (``p_period`` is ``period``). A ``DriverQuery``'s instants come back
in UTC, as ``storage.types.UtcDateTime`` gives them.

Why: a use case's lock statement runs on every call. Through SQLAlchemy each call pays for
its execution context, its result metadata and psycopg's description of every column (40 of
them for a budget's lock); the text and the label positions here are computed once.
"""

from __future__ import annotations

import re
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
        rows, _ = unit_of(unit).fetch(self.sql, {**self._constants, **values})
        if not rows:
            return None
        return DriverRow(self, [_utc(value) for value in rows[0]])


_COLON_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


class TextQuery:
    """A constant SQL text with ``:name`` parameters (as ``sqlalchemy.text`` takes it), run
    on a unit's driver connection: its values as the driver returns them, as from a ``text``
    statement through SQLAlchemy (which processes no result type there)."""

    def __init__(self, sql: str) -> None:
        self.sql = _COLON_PARAMETER.sub(r"%(\1)s", sql)
        self.index: dict[str, int] | None = None  # the column names, from the first result
        self.parts: dict[str, list[tuple[int, str]]] = {}

    def all(self, unit: ReadUnit, values: Mapping[str, Any]) -> list[DriverRow]:
        rows, names = unit_of(unit).fetch(self.sql, values, names=self.index is None)
        if self.index is None:
            self.index = {name: n for n, name in enumerate(names)}
        return [DriverRow(self, list(row)) for row in rows]

    def first(self, unit: ReadUnit, values: Mapping[str, Any]) -> DriverRow | None:
        rows = self.all(unit, values)
        return rows[0] if rows else None


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


class DriverRow:
    """One row of a ``DriverQuery``."""

    __slots__ = ("_query", "_values")

    def __init__(self, query: DriverQuery | TextQuery, values: list[Any]) -> None:
        self._query = query
        self._values = values

    def __getattr__(self, name: str) -> Any:
        index = self._query.index
        try:
            return self._values[index[name] if index is not None else -1]
        except (KeyError, IndexError):
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        index = self._query.index or {}
        return {name: self._values[n] for name, n in index.items()}

    def part(self, prefix: str) -> DriverPart:
        values = self._values
        return DriverPart({name: values[n] for n, name in self._query.parts[prefix]})
