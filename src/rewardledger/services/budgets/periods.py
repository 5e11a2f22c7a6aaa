"""Periods of a budget: the row lock every write starts with, opening the current period
(with its rollover), and the due-jobs step that resets budgets.

Owns the helpers every budget write shares. ``lock`` takes the budget's row lock first, so
the hard cap is checked and the reserve written with no other writer in between (invariant
4, CONVENTIONS.md rule 10); under it a period is opened once, whoever gets there first, and a
rollover's ids are derived from a counter kept under the lock, so no run writes one twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from rewardledger.domain.budgets import (
    KIND_ROLLOVER,
    AccountOpening,
    BudgetPolicy,
    Figures,
    LockedBudget,
    PeriodOpening,
    PeriodRecord,
    WriteKeys,
    current_key,
    funding_account,
    issued_account,
    period_account,
    rollover_id,
)
from rewardledger.domain.budgets import budget_id as check_budget_id
from rewardledger.domain.errors import NotFound
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.port import BudgetStore, store_of

# The budget accounts (funding, issued, each period's) are moved by the budget calls only.
MANAGED_BY = "budgets"


def lock(store: BudgetStore, work: UnitOfWork, budget_id: str) -> BudgetPolicy:
    """The budget, its row locked until the unit ends; ``not_found`` if there is none."""
    found = store.lock_budget(work.unit, work.tenant_id, check_budget_id(budget_id))
    if found is None:
        raise NotFound("budget", budget_id)
    return found[0]


def lock_with(
    store: BudgetStore, work: UnitOfWork, budget_id: str, keys: WriteKeys
) -> LockedBudget:
    """The budget locked with what decides a write: its current period (``period``, with its
    account's ``totals``), the reservation and the journal row it is keyed by (``keys``).

    One statement when the current period is open and still current (``period`` is set);
    else the budget is locked and the keyed rows read one by one, and ``period`` is None (the
    caller opens it with ``current_period``). ``not_found`` if there is no budget.
    """
    found = store.lock_current(work.unit, work.tenant_id, check_budget_id(budget_id), keys)
    if found is not None and _is_current(found, work):
        return found
    policy = lock(store, work, budget_id)
    tenant, reference, transfer_id = work.tenant_id, keys.reference, keys.transfer_id
    return LockedBudget(
        policy,
        reservation=None
        if reference is None
        else store.get_reservation(work.unit, tenant, policy.id, reference),
        entry=None if transfer_id is None else store.journal_row(work.unit, tenant, transfer_id),
    )


def _is_current(locked: LockedBudget, work: UnitOfWork) -> bool:
    """Whether the period read with the lock is the one ``work.now`` writes to."""
    key = current_key(locked.policy, work.now, work.tenant.zone)
    return locked.period is not None and locked.period.period == key


def current_figures(
    store: BudgetStore, work: UnitOfWork, locked: LockedBudget
) -> tuple[PeriodRecord, Figures]:
    """The current period of a ``lock_with`` and its figures, opening the period if needed."""
    if locked.period is not None:
        return locked.period, locked.period.figures(*locked.totals)
    record = current_period(store, work, locked.policy)
    return record, figures_of(store, work.unit, work.tenant_id, record)


def current_period(store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy) -> PeriodRecord:
    """The period ``work.now`` falls in (or the segment of it an on-demand reset opened), opened
    now if it was not (with its rollover).

    Runs under the budget's row lock, so a period is opened once, whoever gets there first.
    """
    key = current_key(policy, work.now, work.tenant.zone)
    found = store.get_period(work.unit, work.tenant_id, policy.id, key)
    if found is not None:
        return found
    return open_period(store, work, policy, key, rollover=policy.rollover)


def open_period(
    store: BudgetStore,
    work: UnitOfWork,
    policy: BudgetPolicy,
    key: str,
    *,
    rollover: bool,
    reset_key: str | None = None,
) -> PeriodRecord:
    """Open period ``key``: its account, its row, the budget's current period, and with
    ``rollover`` what earlier periods still have available moved into it."""
    tenant = work.tenant_id
    if policy.current_period is not None and policy.current_period != key:
        close_period(store, work, policy, policy.current_period, key)
    for account, no_negative in (
        (funding_account(policy.currency), False),
        (issued_account(policy.currency), False),
        (period_account(policy.id, key), True),
    ):
        opening = AccountOpening(
            tenant, account, policy.currency, no_negative, MANAGED_BY, opened_at=work.now
        )
        if store.ensure_account(work.unit, opening):
            work.event("account.created", account, {"asset": policy.currency})
    account_id = period_account(policy.id, key)
    store.insert_period(
        work.unit, PeriodOpening(tenant, policy.id, key, account_id, work.now, reset_key)
    )
    store.set_current_period(work.unit, tenant, policy.id, key)
    work.event("budget.period_opened", policy.id, {"period": key})
    if rollover:
        roll_over(store, work, policy, key)
    found = store.get_period(work.unit, tenant, policy.id, key)
    assert found is not None
    return found


def close_period(
    store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy, period: str, following: str
) -> None:
    """Write ``budget.period_closed`` for ``period``, which ``following`` replaces as the
    budget's current period: its figures as they stand at the close (before any rollover out
    of it), so a dashboard can book the period without reading it back."""
    record = store.get_period(work.unit, work.tenant_id, policy.id, period)
    if record is None:  # the current period always has its row; nothing to report otherwise
        return
    figures = figures_of(store, work.unit, work.tenant_id, record)
    amounts = {
        "hard_cap": policy.hard_cap_minor,
        "soft_cap": policy.soft_cap_minor,
        "funded": figures.funded,
        "rolled_in": figures.rolled_in,
        "reserved": figures.reserved,
        "charged": figures.charged,
        "released": figures.released,
        "used": figures.used,
        "available": figures.available,
    }
    payload: dict[str, object] = {
        "period": period,
        "next_period": following,
        "currency": policy.currency,
    }
    payload.update({name: policy.amount(value) for name, value in amounts.items()})
    work.event("budget.period_closed", policy.id, payload)


def roll_over(store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy, into: str) -> int:
    """Move every earlier period's available funds into period ``into``; return how many
    rollover transfers were written. Ids are derived from the source period and a counter
    kept under the budget's lock, so a second run writes nothing twice."""
    tenant = work.tenant_id
    earlier = [p for p in store.periods(work.unit, tenant, policy.id) if p.period != into]
    if not earlier:
        return 0
    totals = store.account_totals(work.unit, tenant, [p.account_id for p in earlier])
    moved = 0
    for record in earlier:
        available = record.figures(*totals[record.account_id]).available
        if available <= 0:
            continue
        request = TransferRequest(
            id=rollover_id(policy.id, record.period, record.rollovers_count + 1),
            debit_account_id=record.account_id,
            credit_account_id=period_account(policy.id, into),
            asset=policy.currency,
            amount=policy.amount(available),
            kind=KIND_ROLLOVER,
            metadata={"budget_id": policy.id, "from_period": record.period, "to_period": into},
        )
        result = work.submit([request])[0]
        raise_for_single(result)
        if not result.replayed:
            store.add_to_period(
                work.unit,
                tenant,
                policy.id,
                record.period,
                rolled_out_minor=available,
                rollovers_count=1,
            )
            store.add_to_period(work.unit, tenant, policy.id, into, rolled_in_minor=available)
            moved += 1
    return moved


def figures_of(
    store: BudgetStore, unit: ReadUnit | None, tenant_id: str, record: PeriodRecord
) -> Figures:
    """The period's figures: its account's totals with the budget's counters."""
    totals = store.account_totals(unit, tenant_id, [record.account_id])
    return record.figures(*totals.get(record.account_id, (0, 0, 0)))


def run_due(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    """Open each budget's current period (the reset: usage starts at zero) and, with rollover,
    move what earlier periods still have available into it. Expired reservations are released
    by the core's "holds" step, which runs before this one. Safe twice and concurrently: each
    budget is done under its row lock, and ids are derived."""
    store = store_of(ledger)
    opened = rolled = 0
    after: str | None = None
    while True:
        page = store.list_budgets(tenant_id, after, PAGE_SIZE_MAX)
        for listed in page:

            def use_case(work: UnitOfWork, budget: str = listed.id) -> tuple[int, int]:
                policy = lock(store, work, budget)
                key = current_key(policy, work.now, work.tenant.zone)
                new = store.get_period(work.unit, work.tenant_id, policy.id, key) is None
                before = _rollovers(store, work, policy)
                current_period(store, work, policy)
                if policy.rollover:
                    roll_over(store, work, policy, key)
                return int(new), _rollovers(store, work, policy) - before

            new, swept = ledger.run(tenant_id, use_case)
            opened += new
            rolled += swept
        if len(page) < PAGE_SIZE_MAX:
            break
        after = page[-1].id
    return {"budget_periods_opened": opened, "budget_rollovers": rolled}


def _rollovers(store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy) -> int:
    return sum(p.rollovers_count for p in store.periods(work.unit, work.tenant_id, policy.id))
