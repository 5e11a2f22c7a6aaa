"""Cycles: the refresh mode, and refreshing or rebuilding the cashback and debt ledgers.

``POST .../cycles/refresh`` recomputes the dirty (holder, cycle) pairs (what the due-jobs run
does too); ``POST .../cycles/rebuild`` recomputes every row from the movements.
"""

from __future__ import annotations

from fastapi import APIRouter

from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin, Writer
from rewardledger.http.problems import documented
from rewardledger.http.schemas_cycles import (
    CycleRunPublic,
    CycleSettingsCreate,
    CycleSettingsPublic,
)
from rewardledger.services import cycles

router = APIRouter(tags=["cycles"])


@router.get("/tenants/{tid}/cycles/settings")
def get_settings(ledger: LedgerDep, principal: Reader) -> CycleSettingsPublic:
    """The cycle ledgers' refresh mode."""
    return CycleSettingsPublic(refresh_mode=cycles.refresh_mode(ledger, principal.tenant_id))


@router.put("/tenants/{tid}/cycles/settings", responses=documented("validation_error", "busy"))
def put_settings(
    body: CycleSettingsCreate, ledger: LedgerDep, principal: TenantAdmin
) -> CycleSettingsPublic:
    """Set the cycle ledgers' refresh mode.

    ``inline``: rows are recomputed in each writing transaction; ``job``: by a refresh."""
    mode = cycles.set_refresh_mode(ledger, principal.tenant_id, body.refresh_mode)
    return CycleSettingsPublic(refresh_mode=mode.value)


@router.post("/tenants/{tid}/cycles/refresh", responses=documented("busy"))
def refresh(ledger: LedgerDep, principal: Writer) -> CycleRunPublic:
    """Recompute every dirty (holder, cycle) pair now."""
    report = cycles.refresh(ledger, principal.tenant_id)
    return CycleRunPublic(pairs=report.pairs, rows_changed=report.rows_changed)


@router.post("/tenants/{tid}/cycles/rebuild", responses=documented("busy"))
def rebuild(ledger: LedgerDep, principal: TenantAdmin) -> CycleRunPublic:
    """Recompute every row of both ledgers from the movements."""
    report = cycles.rebuild(ledger, principal.tenant_id)
    return CycleRunPublic(pairs=report.pairs, rows_changed=report.rows_changed)
