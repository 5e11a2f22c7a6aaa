"""The base of the budget store: its engine, and where a read runs.

Owns the one rule of every budget read: inside the caller's unit (its transaction or its
snapshot) when there is one, else on a connection of its own for that one read.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection, Engine

from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.storage.unit import SqlSnapshot, reading, snapshot


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def snapshot(self, tenant_id: str) -> AbstractContextManager[SqlSnapshot]:
        return snapshot(self._engine, tenant_id)

    def _reading(self, unit: ReadUnit | None) -> AbstractContextManager[Connection]:
        return reading(self._engine, unit)
