"""Budget periods on demand and the fix of what reconciliation finds (seed 002's
``GetNextResetDate``/``ShouldResetBudget``, ``ResetBudget``, ``ResetMonthlyBudgetsForTenant``
and ``FixDiscrepancy``).

Roles: reading the schedule is ``read``; a reset moves a budget to a new period, ``write``; a
fix changes materialized figures, ``admin``. Writes answer 201, a replay (same idempotency
key) 200 with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin, Writer
from rewardledger.http.routes.budgets import (
    _READ,
    _WRITE,
    BudgetIdPath,
    IdempotencyKey,
    _required_key,
    _written,
)
from rewardledger.http.schemas_budgets import (
    FixCreate,
    FixPublic,
    ResetAllCreate,
    ResetCreate,
    ResetPublic,
    ResetSchedulePublic,
    ResetSummaryPublic,
)
from rewardledger.services import budgets

router = APIRouter(tags=["budgets"])


@router.get("/tenants/{tid}/budgets/{bid}/reset-schedule", responses=_READ)
def reset_schedule(bid: BudgetIdPath, ledger: LedgerDep, principal: Reader) -> ResetSchedulePublic:
    """When the calendar next resets the budget (null when rolling) and whether a reset is due."""
    view = budgets.reset_schedule(ledger, principal.tenant_id, bid)
    return ResetSchedulePublic.model_validate(view)


@router.post("/tenants/{tid}/budgets/{bid}/reset", status_code=201, responses=_WRITE)
def reset_budget(
    bid: BudgetIdPath,
    body: ResetCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> ResetPublic:
    """Reset the budget now: a new period opens and used starts at zero (optional rollover)."""
    key = _required_key(body.idempotency_key, idempotency_key)
    view = budgets.reset_budget(
        ledger, principal.tenant_id, bid, idempotency_key=key, rollover=body.rollover
    )
    return _written(response, view, ResetPublic)


@router.post("/tenants/{tid}/budgets/reset", status_code=201, responses=_WRITE)
def reset_budgets(
    body: ResetAllCreate,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> ResetSummaryPublic:
    """Reset every budget of one period type now, each on its own; failures are listed."""
    key = _required_key(body.idempotency_key, idempotency_key)
    summary = budgets.reset_budgets(
        ledger, principal.tenant_id, body.period_type, idempotency_key=key, rollover=body.rollover
    )
    return ResetSummaryPublic.model_validate(summary)


@router.post("/tenants/{tid}/budgets/{bid}/fix", status_code=201, responses=_WRITE)
def fix_discrepancies(
    bid: BudgetIdPath,
    body: FixCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKey = None,
) -> FixPublic:
    """Set the period totals reconciliation finds wrong back to the journal's (admin), audited."""
    key = _required_key(body.idempotency_key, idempotency_key)
    view = budgets.fix_discrepancies(
        ledger,
        principal.tenant_id,
        bid,
        note=body.note,
        actor=f"key:{principal.key_id}",
        idempotency_key=key,
    )
    return _written(response, view, FixPublic)
