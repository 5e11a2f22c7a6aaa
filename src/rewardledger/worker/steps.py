"""The worker's steps: what ``rewardledger worker`` runs, each on its own schedule.

Owns: the registry (``STEPS``, name -> ``Step``) and its default intervals. The due-job steps
of ``services.jobs`` are here under the same names (so a failure recorded by ``jobs run`` is
resolved by the worker and the other way round), split by cadence where the services allow:
``cycles_refresh`` recomputes what writes marked dirty every minute, while ``cycles`` (mark
the cycles past their grace and the overdue debt, then refresh) closes them hourly. A relay of
the event feed (NATS, webhooks) adds its step with one ``register`` line.

Every step must be safe to run twice (a worker that dies mid-step leaves it to another once
its lease runs out): each one decides what is still due inside its own transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rewardledger.config import Settings
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cycles, jobs, keyed_writes, points, reconciliation

MINUTE_SECONDS = 60
HOUR_SECONDS = 3_600
DAY_SECONDS = 86_400
# A step that is not per tenant is claimed and run once, under this scope instead of a tenant.
EVERY_TENANT = "*"

Run = Callable[[Ledger, str], Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Step:
    """A step of the worker: run every ``interval_seconds`` (settings may change it, per step
    or per tenant and step), for each tenant unless ``per_tenant`` is False (then once, given
    ``EVERY_TENANT`` as its tenant id)."""

    name: str
    interval_seconds: int
    run: Run
    per_tenant: bool = True


def _refresh_cycles(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    report = cycles.refresh(ledger, tenant_id)
    return {"cycle_pairs_refreshed": report.pairs, "cycle_rows_changed": report.rows_changed}


def _remind_expiring(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    # Read at each run, not cached: a changed REWARDLEDGER_POINTS_REMINDER_DAYS takes effect
    # at the next run of the step, in every worker that has it.
    days_ahead = Settings().points_reminder_days
    return points.remind_expiring(ledger, tenant_id, days_ahead=days_ahead)


def _prune_keyed_writes(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    # Read at each run, as the reminders' days are.
    days = Settings().keyed_write_retention_days
    return keyed_writes.run_step(ledger, tenant_id, retention_days=days)


STEPS: dict[str, Step] = {}


def register(step: Step) -> Step:
    """Add ``step`` to the registry (a relay's module calls this once); names are unique."""
    if step.name in STEPS:
        raise ValueError(f"a worker step named {step.name!r} is already registered")
    if step.interval_seconds < 1:
        raise ValueError("a worker step runs at most once a second")
    STEPS[step.name] = step
    return step


_CADENCES = {
    "holds": MINUTE_SECONDS,  # holds and budget reservations past their expiry
    "points": MINUTE_SECONDS,  # pending points activated, lots and redemptions expired
    "budgets": HOUR_SECONDS,  # budget periods opened (the resets) and rolled over
    "cycles": HOUR_SECONDS,  # cycles past their grace closed, overdue debt marked
}
# Every due-job step runs in the worker, each minute unless its cadence is named above.
for _name, _run in jobs.STEPS.items():
    register(Step(_name, _CADENCES.get(_name, MINUTE_SECONDS), _run))
register(Step("cycles_refresh", MINUTE_SECONDS, _refresh_cycles))
# The ledger, every budget and every points holder checked against the journal, with the
# result written as ``reconciliation.completed`` (seed 002: "daily reconciliation cron job").
register(Step("reconciliation", DAY_SECONDS, reconciliation.run_step))
# ``points.expiring_soon`` for the points that expire within N days, once per expiry date.
register(Step("points_reminders", DAY_SECONDS, _remind_expiring))
# The kept answers of keyed set-up writes older than REWARDLEDGER_KEYED_WRITE_RETENTION_DAYS.
register(Step("keyed_writes", DAY_SECONDS, _prune_keyed_writes))
