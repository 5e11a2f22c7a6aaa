"""Top-ups: funds put into a budget's current period.

Owns the fund transfer (budgets:funding -> the period's account, posted) and its counter:
written together in one unit under the budget's row lock. The idempotency key names the
transfer, so a replay returns the first result and a different amount is a conflict.
"""

from __future__ import annotations

from rewardledger.domain.budgets import (
    KIND_FUND,
    BudgetFunding,
    BudgetPolicy,
    Figures,
    PeriodRecord,
    currency_mismatch,
    draw_id,
    fund_id,
    funding_account,
)
from rewardledger.domain.budgets import reference as check_reference
from rewardledger.domain.money import parse_positive
from rewardledger.domain.replay import check_replay
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.periods import current_period, lock
from rewardledger.services.budgets.port import BudgetStore, store_of
from rewardledger.services.budgets.views import TopupResult


def topup(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    amount: str,
    currency: str,
    idempotency_key: str,
) -> TopupResult:
    """Add funds to the budget's current period. They raise funded, balance and available;
    they do not change used or the caps. A replay with the same key returns the first result.
    """
    check_reference(idempotency_key, "idempotency_key")
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> TopupResult:
        policy = lock(store, work, budget_id)
        mismatch = currency_mismatch(policy, currency, "top-up")
        if mismatch is not None:
            raise mismatch
        minor = parse_positive(amount, policy.scale)
        transfer_id = fund_id(policy.id, idempotency_key)
        existing = store.journal_row(work.unit, work.tenant_id, transfer_id)
        if existing is not None:
            check_replay(idempotency_key, amount=existing.amount_minor == minor)
            period = existing.credit_account_id.rsplit(":", 1)[-1]
            return TopupResult(
                policy.id, period, transfer_id, policy.amount(minor), policy.currency, True
            )
        record = current_period(store, work, policy)
        request = TransferRequest(
            id=transfer_id,
            debit_account_id=funding_account(policy.currency),
            credit_account_id=record.account_id,
            asset=policy.currency,
            amount=policy.amount(minor),
            kind=KIND_FUND,
            metadata={"budget_id": policy.id, "period": record.period},
        )
        raise_for_single(work.submit([request])[0])
        store.add_to_period(work.unit, work.tenant_id, policy.id, record.period, funded_minor=minor)
        work.event("budget.funded", policy.id, {"amount": policy.amount(minor)})
        return TopupResult(
            policy.id, record.period, transfer_id, policy.amount(minor), policy.currency, False
        )

    return ledger.run(tenant_id, use_case)


def draw_on_demand(
    store: BudgetStore,
    work: UnitOfWork,
    policy: BudgetPolicy,
    record: PeriodRecord,
    figures: Figures,
    reference: str,
    amount_minor: int,
) -> int:
    """Fund an on-demand budget's reserve: what available lacks moves from the tenant's
    funding account (which may go negative) into the period, as a ``fund`` entry named after
    the reserve, before the reserve holds it. So the period's account never goes below zero
    and every charge is paid by a visible journal row. Returns the amount drawn (0 when the
    budget is prefunded or has enough available)."""
    lacking = amount_minor - max(0, figures.available)
    if policy.funding is not BudgetFunding.ON_DEMAND or lacking <= 0:
        return 0
    request = TransferRequest(
        id=draw_id(policy.id, reference),
        debit_account_id=funding_account(policy.currency),
        credit_account_id=record.account_id,
        asset=policy.currency,
        amount=policy.amount(lacking),
        kind=KIND_FUND,
        metadata={"budget_id": policy.id, "period": record.period, "on_demand": reference},
    )
    raise_for_single(work.submit([request])[0])
    store.add_to_period(work.unit, work.tenant_id, policy.id, record.period, funded_minor=lacking)
    return lacking
