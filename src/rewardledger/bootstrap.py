"""The composition root: settings -> storage -> ledger. Used by the HTTP app, the CLI and tests."""

from __future__ import annotations

from rewardledger.ledger.clock import Clock, system_clock
from rewardledger.ledger.engine import Ledger
from rewardledger.storage.store import SqlStore


def open_ledger(url: str, *, clock: Clock | None = None, migrate: bool = True) -> Ledger:
    """Connect to ``url``, migrate its schema (unless ``migrate=False``), return a Ledger."""
    store = SqlStore(url)
    try:
        if migrate:
            store.migrate()
    except BaseException:
        store.close()
        raise
    return Ledger(store, clock or system_clock)
