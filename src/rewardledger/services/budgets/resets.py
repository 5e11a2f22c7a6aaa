"""Period resets as seed 002 names them: ``GetNextResetDate``, ``ShouldResetBudget``,
``ResetBudget`` and ``ResetMonthlyBudgetsForTenant``.

Owns the on-demand reset. The calendar resets a budget by itself (usage starts at zero in each
new period, opened by the first write or the due jobs); a reset on demand opens a new period
now, named after the calendar one ("2026-03.r1"; "rolling.r1" for a rolling budget), so used
starts at zero again while the old period keeps its reservations and figures. With rollover,
what earlier periods still have available moves in as a ``rollover`` entry (the seed's
"optional rollover entry creation"). The idempotency key is stored on the period it opened: a
replay returns that period, it does not reset twice.
"""

from __future__ import annotations

from rewardledger.domain.budgets import (
    BudgetPeriod,
    BudgetPolicy,
    current_key,
    next_reset_at,
    reset_segment,
)
from rewardledger.domain.budgets import reference as check_reference
from rewardledger.domain.errors import LedgerError, ValidationError
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.periods import lock, open_period
from rewardledger.services.budgets.port import store_of
from rewardledger.services.budgets.setup import get_budget
from rewardledger.services.budgets.views import (
    ResetFailure,
    ResetResult,
    ResetSchedule,
    ResetSummary,
)


def reset_schedule(ledger: Ledger, tenant_id: str, budget_id: str) -> ResetSchedule:
    """When the budget's calendar next resets it (``next_reset_at``; None when rolling) and
    whether a reset is due now (``should_reset``: the calendar has moved past the period its
    last write opened, so the next write or due-jobs run opens a new one)."""
    policy = get_budget(ledger, tenant_id, budget_id)
    now, zone = ledger.clock(), ledger.get_tenant(tenant_id).zone
    due = current_key(policy, now, zone)
    current = policy.current_period
    return ResetSchedule(
        budget_id=policy.id,
        period_type=policy.period.value,
        current_period=current,
        period_now=due,
        next_reset_at=next_reset_at(policy.period, now, zone),
        should_reset=current is not None and current != due,
    )


def reset_budget(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    idempotency_key: str,
    rollover: bool | None = None,
) -> ResetResult:
    """Reset the budget now (seed 002's ``ResetBudget``): open a new period, so used starts at
    zero. ``rollover`` (default: the budget's own setting) moves what earlier periods still
    have available into it. A replay with the same key returns the first reset."""
    check_reference(idempotency_key, "idempotency_key")
    if rollover is not None and not isinstance(rollover, bool):
        raise ValidationError("rollover must be true or false.", field="rollover")
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> ResetResult:
        policy = lock(store, work, budget_id)
        for record in store.periods(work.unit, work.tenant_id, policy.id):
            if record.reset_key == idempotency_key:
                return _result(policy, record.period, None, record.rolled_in, True, idempotency_key)
        key = reset_segment(policy, work.now, work.tenant.zone)
        chosen = policy.rollover if rollover is None else rollover
        opened = open_period(store, work, policy, key, rollover=chosen, reset_key=idempotency_key)
        work.event("budget.reset", policy.id, {"period": key, "previous": policy.current_period})
        return _result(policy, key, policy.current_period, opened.rolled_in, False, idempotency_key)

    return ledger.run(tenant_id, use_case)


def _result(
    policy: BudgetPolicy,
    period: str,
    previous: str | None,
    rolled_in: int,
    replayed: bool,
    key: str,
) -> ResetResult:
    return ResetResult(policy.id, period, previous, policy.amount(rolled_in), key, replayed)


def reset_budgets(
    ledger: Ledger,
    tenant_id: str,
    period_type: str,
    *,
    idempotency_key: str,
    rollover: bool | None = None,
) -> ResetSummary:
    """Reset every budget of ``period_type`` (seed 002's ``ResetMonthlyBudgetsForTenant``,
    "Filters by period type"), each in its own transaction; a budget that fails is counted
    with its error and the others go on. The key makes each budget's reset a replay."""
    try:
        chosen = BudgetPeriod(period_type)
    except ValueError:
        raise ValidationError(
            "period_type must be one of rolling, monthly, quarterly, yearly.", field="period_type"
        ) from None
    check_reference(idempotency_key, "idempotency_key")
    ledger.get_tenant(tenant_id)
    store = store_of(ledger)
    results: list[ResetResult] = []
    failures: list[ResetFailure] = []
    after: str | None = None
    while True:
        page = store.list_budgets(tenant_id, after, PAGE_SIZE_MAX)
        for policy in page:
            if policy.period is not chosen:
                continue
            try:
                results.append(
                    reset_budget(
                        ledger,
                        tenant_id,
                        policy.id,
                        idempotency_key=idempotency_key,
                        rollover=rollover,
                    )
                )
            except LedgerError as error:
                failures.append(ResetFailure(policy.id, error.code, error.message))
        if len(page) < PAGE_SIZE_MAX:
            break
        after = page[-1].id
    return ResetSummary(chosen.value, len(results), len(failures), results, failures)
