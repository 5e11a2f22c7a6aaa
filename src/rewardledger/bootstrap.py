"""The composition root: settings -> storage -> ledger and the services' stores.

Used by the HTTP app, the CLI, tests and ``Ledger.open``. It is the one module that knows both
the services' ports and storage's implementations: ``Extensions.add`` is typed by each port,
so mypy checks here that every store satisfies its protocol (CONVENTIONS.md, rule 17).
"""

from __future__ import annotations

from rewardledger.domain.errors import UnsafeInterpreter
from rewardledger.events import STORE as EVENTS
from rewardledger.events.webhooks import STORE as WEBHOOKS
from rewardledger.ledger import engine
from rewardledger.ledger.clock import Clock, system_clock
from rewardledger.ledger.extensions import Extensions
from rewardledger.metrics import POOL
from rewardledger.services.budgets import STORE as BUDGETS
from rewardledger.services.cycles import STORE as CYCLES
from rewardledger.services.jobs import STORE as JOBS
from rewardledger.services.points import STORE as POINTS
from rewardledger.services.points.reminders import REMINDERS
from rewardledger.storage.budgets import SqlBudgetStore
from rewardledger.storage.cycles import SqlCycleStore
from rewardledger.storage.events import SqlEventStore
from rewardledger.storage.jobs import SqlJobStore
from rewardledger.storage.points import SqlPointsStore
from rewardledger.storage.points_reminders import SqlReminderStore
from rewardledger.storage.pool import SqlPoolUse
from rewardledger.storage.store import SqlStore
from rewardledger.storage.webhooks import SqlWebhookStore
from rewardledger.storage.worker_runs import SqlWorkerRunStore
from rewardledger.worker.port import STORE as WORKER


class Ledger(engine.Ledger):
    """The engine with its one-line entry point: ``Ledger.open("sqlite:///loyalty.db")``."""

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, migrate: bool = True) -> Ledger:
        """Open the ledger at ``url`` (``sqlite:///file.db`` or ``postgresql://...``)."""
        return open_ledger(url, clock=clock, migrate=migrate)


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
    extensions = (
        Extensions()
        .add(BUDGETS, SqlBudgetStore(store.engine))
        .add(CYCLES, SqlCycleStore(store.engine))
        .add(EVENTS, SqlEventStore(store.engine))
        .add(JOBS, SqlJobStore(store.engine))
        .add(POINTS, SqlPointsStore(store.engine))
        .add(REMINDERS, SqlReminderStore(store.engine))
        .add(WEBHOOKS, SqlWebhookStore(store.engine))
        .add(POOL, SqlPoolUse(store.engine))
        .add(WORKER, SqlWorkerRunStore(store.engine))
    )
    return Ledger(store, clock or system_clock, extensions)
