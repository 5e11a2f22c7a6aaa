"""Corrections: an admin reverses a top-up or a charge by a correcting transfer, with a note.

Owns the audit trail of corrections. The journal is append-only, so a correction is a new
transfer the other way round (``domain.budgets.plan_correction`` decides which way and checks
that a transfer is never reversed for more than it moved); it is written with the period's
counter and its audit record in one unit, under the budget's row lock.
"""

from __future__ import annotations

from functools import partial

from rewardledger.domain.budgets import (
    KIND_REVERSE,
    BudgetPolicy,
    CorrectionPlan,
    CorrectionRecord,
    check_correction_replay,
    correction_id,
    plan_correction,
)
from rewardledger.domain.budgets import note as check_note
from rewardledger.domain.budgets import reference as check_reference
from rewardledger.domain.money import parse_positive
from rewardledger.domain.tenants import display_name
from rewardledger.domain.text import check_storable
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.periods import lock
from rewardledger.services.budgets.port import BudgetStore, store_of
from rewardledger.services.budgets.setup import get_budget
from rewardledger.services.budgets.views import CorrectionView, correction_view


def correct(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    reverses: str,
    note: str,
    actor: str,
    idempotency_key: str,
    amount: str | None = None,
) -> CorrectionView:
    """Reverse a top-up or a charge of this budget, wholly or for ``amount``, by a correcting
    transfer the other way round; record who did it and why (``note``) in the audit trail.

    A reversed top-up takes funds out of the period (it needs them available); a reversed
    charge puts them back and lowers charged and used. A transfer is never reversed for more
    than it moved, over all its corrections.
    """
    check_reference(idempotency_key, "idempotency_key")
    check_storable(check_note(note), "note")
    display_name(actor, "actor")
    write = partial(
        correct_within,
        store_of(ledger),
        budget_id,
        reverses,
        note,
        actor,
        idempotency_key,
        amount,
    )
    return ledger.run(tenant_id, write)


def correct_within(
    store: BudgetStore,
    budget_id: str,
    reverses: str,
    note: str,
    actor: str,
    idempotency_key: str,
    amount: str | None,
    work: UnitOfWork,
) -> CorrectionView:
    """``correct`` in a caller's unit of work (``note`` and ``actor`` checked by the caller)."""
    check_reference(idempotency_key, "idempotency_key")
    policy = lock(store, work, budget_id)
    tenant = work.tenant_id
    minor = None if amount is None else parse_positive(amount, policy.scale)
    transfer_id = correction_id(policy.id, idempotency_key)
    if store.journal_row(work.unit, tenant, transfer_id) is not None:
        previous = next(
            (c for c in store.corrections(tenant, policy.id) if c.transfer_id == transfer_id),
            None,
        )
        done = check_correction_replay(idempotency_key, previous, reverses, minor)
        return correction_view(policy, done, replayed=True)
    target = store.journal_row(work.unit, tenant, reverses)
    periods = {p.account_id: p for p in store.periods(work.unit, tenant, policy.id)}
    corrected = store.corrected_amount(work.unit, tenant, reverses)
    plan = plan_correction(policy, reverses, target, periods, corrected, minor)
    correction = CorrectionRecord(
        tenant_id=tenant,
        transfer_id=transfer_id,
        budget_id=policy.id,
        period=plan.period,
        reverses_id=reverses,
        amount_minor=plan.amount_minor,
        note=note,
        actor=actor,
        created_at=work.now,
    )
    return _write_correction(store, work, policy, plan, correction)


def _write_correction(
    store: BudgetStore,
    work: UnitOfWork,
    policy: BudgetPolicy,
    plan: CorrectionPlan,
    correction: CorrectionRecord,
) -> CorrectionView:
    """The write of a correction: its transfer, the period's counter, its audit record."""
    request = TransferRequest(
        id=correction.transfer_id,
        debit_account_id=plan.debit_account_id,
        credit_account_id=plan.credit_account_id,
        asset=policy.currency,
        amount=policy.amount(plan.amount_minor),
        kind=KIND_REVERSE,
        metadata={
            "budget_id": policy.id,
            "reverses": correction.reverses_id,
            "note": correction.note,
            "actor": correction.actor,
        },
    )
    raise_for_single(work.submit([request])[0])
    store.add_to_period(
        work.unit, work.tenant_id, policy.id, plan.period, **{plan.counter: plan.amount_minor}
    )
    store.insert_correction(work.unit, correction)
    work.event(
        "budget.corrected",
        policy.id,
        {"transfer_id": correction.transfer_id, "actor": correction.actor},
    )
    return correction_view(policy, correction)


def corrections(ledger: Ledger, tenant_id: str, budget_id: str) -> list[CorrectionView]:
    """The audit trail of a budget's corrections, oldest first."""
    policy = get_budget(ledger, tenant_id, budget_id)
    return [correction_view(policy, c) for c in store_of(ledger).corrections(tenant_id, policy.id)]
