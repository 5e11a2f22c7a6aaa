"""Integrity: GET verifies a tenant's materialized data against its journal (reader); POST
/repair rebuilds it from the journal (admin), recording the key that asked as the actor."""

from __future__ import annotations

from fastapi import APIRouter

from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin
from rewardledger.http.problems import documented
from rewardledger.http.schemas import IntegrityReportPublic, RepairReportPublic

router = APIRouter(tags=["integrity"])

_PROBLEMS = documented("unauthorized", "forbidden", "not_found", "busy")


@router.get("/tenants/{tid}/integrity", responses=_PROBLEMS)
def verify(ledger: LedgerDep, principal: Reader) -> IntegrityReportPublic:
    """Check invariants 1, 2 and 5 for the tenant; list the discrepancies found."""
    return IntegrityReportPublic.of(ledger.verify(principal.tenant_id))


@router.post("/tenants/{tid}/integrity/repair", responses=_PROBLEMS)
def repair(ledger: LedgerDep, principal: TenantAdmin) -> RepairReportPublic:
    """Rebuild materialized totals and holds from the journal (the journal is never edited)."""
    actor = f"api-key:{principal.key_id}"
    return RepairReportPublic.of(ledger.repair(principal.tenant_id, actor=actor))
