"""Due jobs: POST runs every service's due work for the tenant now (writer); GET lists the
steps that failed (reader).

A step that fails does not fail the run: the answer is still 200, with the step under
``failures`` (its code, message and attempts so far) and the other steps' counts under
``steps``. The failure stays listed at ``.../jobs/failures`` until a run of that step succeeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from rewardledger.domain.limits import JOB_STEP_LENGTH_MAX
from rewardledger.http.deps import LedgerDep, Reader, Writer
from rewardledger.http.examples import example
from rewardledger.http.examples import operations as samples
from rewardledger.http.fields import NEXT_CURSOR, IsoTime, id_query
from rewardledger.http.problems import documented, tenant_route_problems
from rewardledger.http.public import ViewPublic
from rewardledger.http.routes.lists import FIRST_PAGE, PagingQuery
from rewardledger.services import jobs

router = APIRouter(tags=["jobs"])

_PROBLEMS = documented("unauthorized", "forbidden", "not_found", "busy")
_READ = tenant_route_problems()


class StepFailurePublic(ViewPublic, json_schema_extra=example(samples.STEP_FAILURE)):
    step: str
    code: str = Field(description="The error's code: internal_error when it is a bug.")
    message: str
    attempts: int | None = Field(
        description="Runs this failure has lasted, this one included; null when it could not "
        "be recorded."
    )


class JobsReportPublic(ViewPublic, json_schema_extra=example(samples.JOBS_REPORT)):
    tenant_id: str
    steps: dict[str, dict[str, int]] = Field(
        description="What each step that succeeded did, by step name: counts of what was "
        "expired, reset..."
    )
    failures: list[StepFailurePublic] = Field(
        description="The steps that failed in this run (retried at the next one)."
    )


class JobFailurePublic(ViewPublic, json_schema_extra=example(samples.JOB_FAILURE)):
    failure_id: str
    step: str
    code: str
    message: str = Field(description="The last attempt's error.")
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    resolved_at: datetime | None = Field(description="When the step next succeeded; null: open.")


class JobFailuresPublic(ViewPublic, json_schema_extra=example(samples.JOB_FAILURES)):
    failures: list[JobFailurePublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


@router.post("/tenants/{tid}/jobs/run", responses=_PROBLEMS)
def run_jobs(ledger: LedgerDep, principal: Writer) -> JobsReportPublic:
    """Run what is due now: expire holds and reservations, reset budget periods, expire
    points, refresh and close cycles. Safe to call twice or from several places at once. A
    step that fails is listed under ``failures``; the other steps still run."""
    return JobsReportPublic.of(jobs.run_due_jobs(ledger, principal.tenant_id))


@router.get("/tenants/{tid}/jobs/failures", responses=_READ)
def job_failures(
    ledger: LedgerDep,
    principal: Reader,
    include_resolved: bool = False,
    step: Annotated[
        str | None,
        id_query(f"^{jobs.STEP_PATTERN}$", JOB_STEP_LENGTH_MAX, "Only the failures of this step."),
    ] = None,
    since: Annotated[
        IsoTime | None,
        Query(alias="from", description="Only those that last failed at or after this time."),
    ] = None,
    paging: PagingQuery = FIRST_PAGE,
) -> JobFailuresPublic:
    """The steps of due work that failed, the latest first, a page at a time: open ones
    (still failing at the last run) unless ``include_resolved``."""
    page = jobs.failures_page(
        ledger,
        principal.tenant_id,
        include_resolved=include_resolved,
        step=step,
        since=since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return JobFailuresPublic.of(page)
