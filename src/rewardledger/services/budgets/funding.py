"""Top-ups: funds put into a budget's current period.

Owns the fund transfer (budgets:funding -> the period's account, posted) and its counter:
written together in one unit under the budget's row lock. The idempotency key names the
transfer, so a replay returns the first result and a different amount is a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from rewardledger.domain.budgets import (
    KIND_FUND,
    BudgetFunding,
    BudgetPolicy,
    Figures,
    LockedBudget,
    OwnRows,
    PeriodRecord,
    ReservationRecord,
    WriteKeys,
    currency_mismatch,
    draw_id,
    fund_id,
    funding_account,
)
from rewardledger.domain.budgets import budget_id as check_budget_id
from rewardledger.domain.budgets import reference as check_reference
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.money import parse_positive
from rewardledger.domain.replay import check_replay
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.periods import current_period, lock_with
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
    write = partial(topup_within, store_of(ledger), budget_id, amount, currency, idempotency_key)
    return ledger.run(tenant_id, write)


def topup_within(
    store: BudgetStore,
    budget_id: str,
    amount: str,
    currency: str,
    idempotency_key: str,
    work: UnitOfWork,
) -> TopupResult:
    """``topup`` in a caller's unit of work (one of a batch's writes)."""
    check_reference(idempotency_key, "idempotency_key")
    transfer_id = fund_id(check_budget_id(budget_id), idempotency_key)
    locked = lock_with(store, work, budget_id, WriteKeys(transfer_id=transfer_id))
    policy = locked.policy
    mismatch = currency_mismatch(policy, currency, "top-up")
    if mismatch is not None:
        raise mismatch
    minor = parse_positive(amount, policy.scale)
    existing = locked.entry
    if existing is not None:
        check_replay(idempotency_key, amount=existing.amount_minor == minor)
        period = existing.credit_account_id.rsplit(":", 1)[-1]
        return TopupResult(
            policy.id, period, transfer_id, policy.amount(minor), policy.currency, True
        )
    record = locked.period or current_period(store, work, policy)
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
    funded = OutboxEvent("budget.funded", policy.id, {"amount": policy.amount(minor)})
    write_own_rows(store, work, locked, record.period, {"funded_minor": minor}, funded)
    return TopupResult(
        policy.id, record.period, transfer_id, policy.amount(minor), policy.currency, False
    )


def write_own_rows(
    store: BudgetStore,
    work: UnitOfWork,
    locked: LockedBudget,
    period: str,
    deltas: Mapping[str, int],
    event: OutboxEvent,
    reservation: ReservationRecord | None = None,
) -> None:
    """The budget's own rows of a write after the core's: the period's counters, the
    reservation and the write's event, in one statement. When the unit opened the period
    (``locked.period`` is None) the event is queued instead, after that period's events."""
    events = [event] if locked.period is not None else []
    own = OwnRows(
        work.tenant_id, locked.policy.id, period, deltas, work.now, reservation, events=events
    )
    store.write_own_rows(work.unit, own)
    if not events:
        work.event(event.event_type, event.subject_id, event.payload)


def draw_on_demand(
    policy: BudgetPolicy,
    record: PeriodRecord,
    figures: Figures,
    reference: str,
    amount_minor: int,
) -> TransferRequest | None:
    """The draw that funds an on-demand budget's reserve: what available lacks moves from the
    tenant's funding account (which may go negative) into the period, as a ``fund`` entry
    named after the reserve, in the reserve's batch, before it. So the period's account never
    goes below zero and every charge is paid by a visible journal row. None when the budget is
    prefunded or has enough available; the caller adds the amount to the period's funded."""
    lacking = amount_minor - max(0, figures.available)
    if policy.funding is not BudgetFunding.ON_DEMAND or lacking <= 0:
        return None
    return TransferRequest(
        id=draw_id(policy.id, reference),
        debit_account_id=funding_account(policy.currency),
        credit_account_id=record.account_id,
        asset=policy.currency,
        amount=policy.amount(lacking),
        kind=KIND_FUND,
        metadata={"budget_id": policy.id, "period": record.period, "on_demand": reference},
    )
