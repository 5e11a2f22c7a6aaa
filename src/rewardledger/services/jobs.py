"""Due jobs: the periodic work of every service, run by ``rewardledger jobs run`` and
``POST /v1/tenants/{tid}/jobs/run``.

Owns: the list of steps and the order they run in. Each step does what is due for one tenant
at the ledger's current time and returns what it did, as counts by name. Every step must be
safe to run twice and from two processes at once: it decides inside its own transactions
what is still due, and writes under derived ids that a second run would collide with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, cycles, redemptions

# A step: (ledger, tenant id) -> counts of what it did, for the report.
Step = Callable[[Ledger, str], Mapping[str, int]]


def _expire_holds(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    return {"holds_expired": ledger.expire_due(tenant_id)}


# name -> step, in the order they run. Services add theirs here (one line each).
STEPS: dict[str, Step] = {
    "holds": _expire_holds,
    "budgets": budgets.run_due,
    "points": redemptions.run_due,
    "cycles": cycles.run_due,
}


@dataclass(frozen=True, slots=True)
class JobsReport:
    """What one run did for one tenant: step name -> counts."""

    tenant_id: str
    steps: dict[str, dict[str, int]] = field(default_factory=dict)


def run_due_jobs(
    ledger: Ledger,
    tenant_id: str,
    *,
    on_step: Callable[[str], None] | None = None,
) -> JobsReport:
    """Run every due step for ``tenant_id``, in order; ``on_step`` is told each step's name
    before it runs (for a progress display)."""
    ledger.get_tenant(tenant_id)
    report = JobsReport(tenant_id)
    for name, step in STEPS.items():
        if on_step is not None:
            on_step(name)
        report.steps[name] = dict(step(ledger, tenant_id))
    return report
