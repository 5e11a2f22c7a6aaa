"""Due jobs: the periodic work of every service, run by ``rewardledger jobs run`` and
``POST /v1/tenants/{tid}/jobs/run``.

Owns: the list of steps and the order they run in, and what happens when one fails. Each step
does what is due for one tenant at the ledger's current time and returns what it did, as
counts by name. Every step must be safe to run twice and from two processes at once: it
decides inside its own transactions what is still due, and writes under derived ids that a
second run would collide with.

Protects: a step that fails stops neither the steps after it nor the other tenants. Its error
goes into the run's report and into ``job_failures`` (``JobStore``), where it stays open,
counting attempts, until a later run of that step succeeds and resolves it; every run tries
every step again. The operator lists the failures with ``rewardledger jobs failures`` or
``GET /v1/tenants/{tid}/jobs/failures``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.jobs import FailureQuery, JobFailure, describe
from rewardledger.domain.limits import JOB_STEP_LENGTH_MAX, PAGE_SIZE_DEFAULT
from rewardledger.domain.paging import instant_and_id_after, instant_part, page_limit, page_of
from rewardledger.domain.validation import check_instant
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import budgets, cycles, redemptions
from rewardledger.services.jobs.port import STORE, JobStore

__all__ = [
    "STEPS",
    "STEP_PATTERN",
    "STORE",
    "FailurePage",
    "JobStore",
    "JobsReport",
    "Step",
    "StepFailure",
    "failures",
    "failures_page",
    "run_due_jobs",
    "run_every_tenant",
    "run_step",
]

logger = logging.getLogger(__name__)

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
_STEP = re.compile(rf"[A-Za-z0-9_.:-]{{1,{JOB_STEP_LENGTH_MAX}}}")
# What a step's name may be, for a schema to state the same rule as the check.
STEP_PATTERN = _STEP.pattern


@dataclass(frozen=True, slots=True)
class StepFailure:
    """A step that failed in this run. ``attempts`` counts this failure's runs so far (1 the
    first time); None when the failure could not be recorded (the database failed too)."""

    step: str
    code: str
    message: str
    attempts: int | None


@dataclass(frozen=True, slots=True)
class JobsReport:
    """What one run did for one tenant: step name -> counts, and the steps that failed."""

    tenant_id: str
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[StepFailure] = field(default_factory=list)


def run_due_jobs(
    ledger: Ledger,
    tenant_id: str,
    *,
    on_step: Callable[[str], None] | None = None,
) -> JobsReport:
    """Run every due step for ``tenant_id``, in order, each whatever the others do; ``on_step``
    is told each step's name before it runs (for a progress display)."""
    ledger.get_tenant(tenant_id)
    store = ledger.extension(STORE)
    report = JobsReport(tenant_id)
    for name, step in STEPS.items():
        if on_step is not None:
            on_step(name)
        try:
            report.steps[name] = dict(step(ledger, tenant_id))
        except Exception as error:  # a step's failure must not stop the next: it is recorded
            report.failures.append(_record(ledger, store, tenant_id, name, error))
    still_open = store.open_steps(tenant_id)
    succeeded = [name for name in report.steps if name in still_open]
    if succeeded:
        ledger.run(tenant_id, lambda work: store.resolve(work.unit, succeeded, work.now))
    return report


def run_step(
    ledger: Ledger, tenant_id: str, name: str, step: Step
) -> tuple[dict[str, int] | None, StepFailure | None]:
    """Run one step for one tenant, as the worker does on the step's own schedule: its counts,
    or its failure recorded in ``job_failures`` (as ``run_due_jobs`` does); a success resolves
    the step's open failure."""
    store = ledger.extension(STORE)
    try:
        counts = dict(step(ledger, tenant_id))
    except Exception as error:  # recorded, then the worker goes on with the next step
        return None, _record(ledger, store, tenant_id, name, error)
    if name in store.open_steps(tenant_id):
        ledger.run(tenant_id, lambda work: store.resolve(work.unit, [name], work.now))
    return counts, None


def run_every_tenant(
    ledger: Ledger,
    tenant_ids: Iterable[str],
    *,
    on_step: Callable[[str, str], None] | None = None,
) -> list[JobsReport]:
    """``run_due_jobs`` for each tenant in turn; a tenant whose run fails as a whole (its
    failures could not even be resolved) is reported as failing every step it did not run."""
    reports = []
    for tenant_id in tenant_ids:

        def told(name: str, tenant_id: str = tenant_id) -> None:
            if on_step is not None:
                on_step(tenant_id, name)

        try:
            reports.append(run_due_jobs(ledger, tenant_id, on_step=told))
        except Exception as error:  # e.g. the database went away between two tenants
            code, message = describe(error)
            failures = [StepFailure("run", code, message, None)]
            reports.append(JobsReport(tenant_id, failures=failures))
    return reports


def failures(
    ledger: Ledger,
    tenant_id: str,
    *,
    include_resolved: bool = False,
    limit: int = PAGE_SIZE_DEFAULT,
) -> list[JobFailure]:
    """The tenant's failed steps, the latest first: open ones only, or resolved ones too."""
    return failures_page(ledger, tenant_id, include_resolved=include_resolved, limit=limit).failures


@dataclass(frozen=True, slots=True)
class FailurePage:
    failures: list[JobFailure]
    next_cursor: str | None


def failures_page(
    ledger: Ledger,
    tenant_id: str,
    *,
    include_resolved: bool = False,
    step: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> FailurePage:
    """The tenant's failed steps, the latest first, a page at a time: open ones only, or
    resolved ones too; only ``step``'s and only those that failed at or after ``since``, when
    given. The cursor is the last row's last_failed_at (whole microseconds) and id; a failure
    that fails again while pages are read moves to the front, before the pages still to come."""
    size = page_limit(limit)
    before = instant_and_id_after(cursor)
    if step is not None and not _STEP.fullmatch(step):
        raise ValidationError(
            f"step must be a step's name (letters, digits, _ . : -, at most "
            f"{JOB_STEP_LENGTH_MAX}), such as {', '.join(STEPS)}.",
            field="step",
        )
    if since is not None:
        check_instant(since, "from")
    ledger.get_tenant(tenant_id)
    wanted = FailureQuery(include_resolved, size + 1, step, since, before)
    rows = ledger.extension(STORE).failures(tenant_id, wanted)
    return FailurePage(
        *page_of(rows, size, lambda row: (instant_part(row.last_failed_at), row.failure_id))
    )


def _record(
    ledger: Ledger, store: JobStore, tenant_id: str, step: str, error: Exception
) -> StepFailure:
    code, message = describe(error)
    # The traceback is for a developer's log, below the level a command line shows.
    logger.info("due-jobs step %r of tenant %r failed", step, tenant_id, exc_info=error)

    def record(work: UnitOfWork) -> int:
        return store.record_failure(work.unit, step, code, message, work.now)

    try:
        attempts: int | None = ledger.run(tenant_id, record)
    except Exception:  # the database failed too: the run's report still says what failed
        logger.info("could not record the failure of %r for %r", step, tenant_id, exc_info=True)
        attempts = None
    return StepFailure(step, code, message, attempts)
