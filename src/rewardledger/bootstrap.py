"""The composition root: settings -> storage -> ledger. Used by the HTTP app, the CLI and tests."""

from __future__ import annotations

from rewardledger.domain.errors import UnsafeInterpreter
from rewardledger.ledger.clock import Clock, system_clock
from rewardledger.ledger.engine import Ledger
from rewardledger.storage.store import SqlStore


def open_ledger(url: str, *, clock: Clock | None = None, migrate: bool = True) -> Ledger:
    """Connect to ``url``, migrate its schema (unless ``migrate=False``), return a Ledger.

    Raises ``database_unavailable`` when the database cannot be reached, and refuses to run
    under ``python -O`` (CONVENTIONS.md, rule 7: invariants stay checked in production).
    """
    if not __debug__:
        raise UnsafeInterpreter()
    store = SqlStore(url)
    try:
        store.ping()
        if migrate:
            store.migrate()
    except BaseException:
        store.close()
        raise
    return Ledger(store, clock or system_clock)
