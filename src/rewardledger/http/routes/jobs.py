"""Due jobs: POST runs every service's due work for the tenant now (writer)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from rewardledger.http.deps import LedgerDep, Writer
from rewardledger.http.problems import documented
from rewardledger.services.jobs import run_due_jobs

router = APIRouter(tags=["jobs"])

_PROBLEMS = documented("unauthorized", "forbidden", "not_found", "busy")


class JobsReportPublic(BaseModel):
    tenant_id: str
    steps: dict[str, dict[str, int]] = Field(
        description="What each step did, by step name: counts of what was expired, reset..."
    )


@router.post("/tenants/{tid}/jobs/run", responses=_PROBLEMS)
def run_jobs(ledger: LedgerDep, principal: Writer) -> JobsReportPublic:
    """Run what is due now: expire holds and reservations, reset budget periods, expire
    points, refresh and close cycles. Safe to call twice or from several places at once."""
    report = run_due_jobs(ledger, principal.tenant_id)
    return JobsReportPublic(tenant_id=report.tenant_id, steps=report.steps)
