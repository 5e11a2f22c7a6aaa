"""The daily reconciliation (seed 002: "Set up daily reconciliation cron job"): every check of
the tenant's figures against its journal, run together, its result written as an event.

Owns: the worker's ``reconciliation`` step and what it checks: the ledger (``verify``:
invariants 1, 2 and 5, the journal's digests and seals), every budget (``reconcile_tenant``,
seed 002's ``ReconcileAllBudgets``) and every points holder (seed 004's
``validate_balance_integrity``). Protects: the third check of rule 8 runs by itself and its
result leaves with the event feed, so an operator or a dashboard learns of a mismatch without
asking. Each run writes one ``reconciliation.completed`` (clean or not) and, when something
differs, one ``reconciliation.mismatch_found`` with the first differences; it repairs nothing
(``verify --repair`` and the budget fixes do, on purpose, by a person).

The checks read; only the events are written, in one transaction of their own at the end. A
second run (a worker whose lease ran out, ``jobs run`` beside the worker) is a second result,
named by its own run id: both are true of the moment they describe.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import budgets
from rewardledger.services.points import integrity as points_integrity

CLEAN = "clean"
MISMATCH = "mismatch"
CHECKS = ("ledger", "budgets", "points")
# The differences a ``reconciliation.mismatch_found`` lists (all are counted).
MISMATCH_SAMPLES_MAX = 20


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: how many things it looked at (accounts, budgets, holders) and how many
    differences it found."""

    checked: int
    mismatches: int


@dataclass(frozen=True, slots=True)
class ReconciliationRun:
    """One daily reconciliation of a tenant: ``day`` is the tenant's local date of the run."""

    run_id: str
    tenant_id: str
    day: str
    checks: dict[str, CheckResult]
    samples: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return MISMATCH if self.mismatch_count else CLEAN

    @property
    def ok_count(self) -> int:
        """Checks that found nothing."""
        return sum(1 for c in self.checks.values() if c.mismatches == 0)

    @property
    def mismatch_count(self) -> int:
        """Checks that found at least one difference."""
        return sum(1 for c in self.checks.values() if c.mismatches)

    def counts(self) -> dict[str, int]:
        """The worker's counts of the run (its log line and ``worker --once``)."""
        ledger, budgets, points = (self.checks[name] for name in CHECKS)
        return {
            "accounts_checked": ledger.checked,
            "ledger_discrepancies": ledger.mismatches,
            "budgets_checked": budgets.checked,
            "budget_discrepancies": budgets.mismatches,
            "holders_checked": points.checked,
            "holder_mismatches": points.mismatches,
        }


def reconcile_daily(ledger: Ledger, tenant_id: str) -> ReconciliationRun:
    """Run every check for ``tenant_id`` now, then write its result as events (one unit)."""
    tenant = ledger.get_tenant(tenant_id)
    day = ledger.clock().astimezone(tenant.zone).date().isoformat()
    samples: list[dict[str, str]] = []
    verified = ledger.verify(tenant_id)
    for found in verified.discrepancies:
        samples.append(
            _sample(
                "ledger",
                f"{found.check}/{found.subject}",
                found.field,
                found.journal,
                found.materialized,
            )
        )
    tenant_budgets = budgets.reconcile_tenant(ledger, tenant_id)
    for budget in tenant_budgets.budgets:
        for gap in budget.discrepancies:
            subject = f"{budget.budget_id}/{gap.period}"
            samples.append(_sample("budgets", subject, gap.figure, gap.journal, gap.materialized))
    holders, differing, mismatched = points_integrity.check(ledger, tenant_id)
    for line in mismatched:
        samples.append(
            _sample(
                "points",
                f"{line.asset}/{line.user_id}",
                "balance",
                str(line.ledger_balance),
                str(line.balance),
            )
        )
    run = ReconciliationRun(
        run_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        day=day,
        checks={
            "ledger": CheckResult(verified.accounts_checked, verified.discrepancy_count),
            "budgets": CheckResult(
                tenant_budgets.budgets_checked, tenant_budgets.discrepancies_count
            ),
            "points": CheckResult(holders, differing),
        },
        samples=samples[:MISMATCH_SAMPLES_MAX],
    )
    ledger.run(tenant_id, lambda work: _write(work, run))
    return run


def _sample(
    check: str, subject: str, figure: str | None, journal: str | None, materialized: str | None
) -> dict[str, str]:
    sample = {"check": check, "subject": subject}
    for name, value in (("field", figure), ("journal", journal), ("materialized", materialized)):
        if value is not None:
            sample[name] = value
    return sample


def _write(work: UnitOfWork, run: ReconciliationRun) -> None:
    checks = {
        name: {"checked": check.checked, "mismatches": check.mismatches}
        for name, check in run.checks.items()
    }
    summary: dict[str, object] = {
        "status": run.status,
        "day": run.day,
        "checked": list(run.checks),
        "ok_count": run.ok_count,
        "mismatch_count": run.mismatch_count,
        "checks": checks,
    }
    work.event("reconciliation.completed", run.run_id, summary)
    if run.mismatch_count:
        mismatched = {name: c for name, c in checks.items() if c["mismatches"]}
        payload = {"day": run.day, "checks": mismatched, "samples": run.samples}
        work.event("reconciliation.mismatch_found", run.run_id, payload)


def run_step(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    """The worker's ``reconciliation`` step (daily by default)."""
    return reconcile_daily(ledger, tenant_id).counts()
