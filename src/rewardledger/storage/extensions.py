"""The storage of each service, by name: what ``SqlStore.extension(name)`` builds.

Owns: the wiring between a service's storage protocol (declared beside the service, in
``rewardledger.services``) and its SQLAlchemy implementation here, without storage importing
services or services importing storage. Each factory takes the store's engine; the
repository it makes runs its in-transaction statements on a unit of work's connection.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from rewardledger.storage.budgets import SqlBudgetStore
from rewardledger.storage.cycles import SqlCycleStore
from rewardledger.storage.points import SqlPointsStore

# name -> factory. One line per service; keep them sorted.
_FACTORIES: dict[str, Callable[[Engine], object]] = {
    "budgets": SqlBudgetStore,
    "cycles": SqlCycleStore,
    "points": SqlPointsStore,
}


def make_extension(name: str, engine: Engine) -> object:
    factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES))
        raise LookupError(f"There is no storage extension called {name!r}; known: {known}.")
    return factory(engine)
