"""Reserve, charge, release: a reward's money held, then spent or given back.

Owns the reservation of a reward issuance (glossary: reserve / charge / release = pending /
post / void). A reserve runs ``domain.budgets.check_reserve`` under the budget's row lock and
writes the pending transfer, the reservation, the period's counter and its alerts in one unit
(invariant 4). A refused reserve rolls all of that back and writes only its alert, in a unit
of its own. The reference is the idempotency key of a reserve.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from rewardledger.domain.budgets import (
    KIND_RESERVE,
    AlertDue,
    AlertRecord,
    BudgetPolicy,
    Figures,
    LockedBudget,
    MemberUsage,
    PeriodRecord,
    ReservationRecord,
    Resolution,
    WriteKeys,
    alert_payload,
    alerts_due,
    charge_id,
    check_charge,
    check_release,
    check_reserve,
    issued_account,
    rejection_alert,
    reserve_id,
)
from rewardledger.domain.budgets import budget_id as check_budget_id
from rewardledger.domain.budgets import reference as check_reference
from rewardledger.domain.budgets import (
    timeout_seconds as check_timeout_seconds,
)
from rewardledger.domain.errors import BatchFailed, NotFound, Rejection
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.money import parse_positive
from rewardledger.domain.replay import check_replay
from rewardledger.domain.transfers import PostPending, Transfer, TransferRequest, VoidPending
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.results import TransferResult
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.funding import draw_on_demand, write_own_rows
from rewardledger.services.budgets.periods import current_figures, lock, lock_with
from rewardledger.services.budgets.port import BudgetStore, store_of
from rewardledger.services.budgets.setup import get_budget
from rewardledger.services.budgets.views import ReservationView, reservation_view


def reserve(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    reference: str,
    amount: str,
    currency: str,
    member_key: str | None = None,
    timeout_seconds: int | None = None,
) -> ReservationView:
    """Hold ``amount`` for the reward issuance ``reference`` in the current period.

    Refused with ``currency_mismatch``, ``hard_cap_exceeded`` (used + amount > hard cap),
    ``insufficient_funds`` (amount > available) or ``member_cap_exceeded``; a refusal writes
    one alert (in its own committed unit) and changes nothing else. With ``timeout_seconds``
    the reservation expires then and a due-jobs run releases it. The reference is the
    idempotency key: the same request again returns the first reservation.
    """
    check_reference(reference)
    if member_key is not None:
        check_reference(member_key, "member_key")
    timeout = check_timeout_seconds(timeout_seconds)
    store = store_of(ledger)

    use_case = partial(
        reserve_within, store, budget_id, reference, amount, currency, member_key, timeout
    )
    try:
        return ledger.run(tenant_id, use_case)
    except ReserveRefused as refused:
        ledger.run(tenant_id, partial(_write_refusal, store, budget_id, refused))
        raise refused.rejection from None


def reserve_within(
    store: BudgetStore,
    budget_id: str,
    reference: str,
    amount: str,
    currency: str,
    member_key: str | None,
    timeout: int | None,
    work: UnitOfWork,
) -> ReservationView:
    """``reserve`` in a caller's unit of work; a refusal raises ``ReserveRefused`` (its
    ``rejection`` is the error), and the caller's unit is rolled back."""
    check_reference(reference)
    locked = lock_with(store, work, budget_id, WriteKeys(reference=reference))
    policy = locked.policy
    minor = parse_positive(amount, policy.scale)
    existing = locked.reservation
    if existing is not None:
        check_replay(
            reference,
            amount=existing.amount_minor == minor,
            currency=currency == policy.currency,
            member_key=existing.member_key == member_key,
        )
        resolution = store.resolution(work.unit, work.tenant_id, existing.transfer_id)
        return reservation_view(policy, existing, resolution, replayed=True)
    record, figures = current_figures(store, work, locked)
    member = _member_usage(store, work, policy, record.period, member_key)
    refusal = check_reserve(policy, figures, minor, currency, member)
    if refusal is not None:
        details = alert_payload(policy, figures.used, minor) | {"reference": reference}
        # Roll back everything this unit did (a period it opened, a rollover): the alert
        # is written in a unit of its own.
        raise ReserveRefused(refusal, record.period, rejection_alert(reference, refusal), details)
    held = ReservationRecord(
        tenant_id=work.tenant_id,
        budget_id=policy.id,
        reference=reference,
        transfer_id=reserve_id(policy.id, reference),
        period=record.period,
        member_key=member_key,
        amount_minor=minor,
        expires_at=None,
        created_at=work.now,
    )
    return _write_reservation(store, work, locked, record, figures, held, timeout)


def _write_refusal(
    store: BudgetStore, budget_id: str, refused: ReserveRefused, work: UnitOfWork
) -> None:
    """The alert of a refused reserve, in a unit of its own (the reserve's was rolled back)."""
    lock(store, work, budget_id)
    write_alert(store, work, budget_id, refused.period, refused.alert, refused.details)


def _member_usage(
    store: BudgetStore,
    work: UnitOfWork,
    policy: BudgetPolicy,
    period: str,
    member_key: str | None,
) -> MemberUsage | None:
    """What the member holds in the period, when the budget caps members (else None)."""
    if member_key is None or (
        policy.member_cap_amount_minor is None and policy.member_cap_count is None
    ):
        return None
    return MemberUsage(
        *store.member_usage(work.unit, work.tenant_id, policy.id, period, member_key)
    )


def _write_reservation(
    store: BudgetStore,
    work: UnitOfWork,
    locked: LockedBudget,
    record: PeriodRecord,
    figures: Figures,
    held: ReservationRecord,
    timeout_seconds: int | None,
) -> ReservationView:
    """The write of an accepted reserve: the pending transfer (after the draw of an on-demand
    budget, in one batch), then the reservation, the period's counters and the event in one
    statement, and the alerts its new usage calls for."""
    policy = locked.policy
    draw = draw_on_demand(policy, record, figures, held.reference, held.amount_minor)
    request = TransferRequest(
        id=held.transfer_id,
        debit_account_id=record.account_id,
        credit_account_id=issued_account(policy.currency),
        asset=policy.currency,
        amount=policy.amount(held.amount_minor),
        kind=KIND_RESERVE,
        pending=True,
        timeout_seconds=timeout_seconds,
        metadata={"budget_id": policy.id, "period": record.period, "reference": held.reference},
    )
    transfer = _raise_for_batch(work.submit([request] if draw is None else [draw, request]))
    reservation = replace(held, expires_at=transfer.expires_at)
    deltas = {"reserved_total_minor": held.amount_minor}
    if draw is not None:
        deltas["funded_minor"] = parse_positive(draw.amount, policy.scale)
    reserved = OutboxEvent("budget.reserved", policy.id, {"reference": held.reference})
    write_own_rows(store, work, locked, record.period, deltas, reserved, reservation)
    used_after = figures.used + held.amount_minor
    for due in alerts_due(policy, figures.used, used_after, record.reserved_total):
        details = alert_payload(policy, used_after, held.amount_minor)
        write_alert(
            store, work, policy.id, record.period, due, details | {"reference": held.reference}
        )
    return reservation_view(policy, reservation, None)


def _raise_for_batch(results: list[TransferResult]) -> Transfer:
    """The last transfer of an all-or-nothing batch, or the error that refused the batch (not
    the ``batch_failed`` of the others)."""
    for result in sorted(results, key=lambda r: isinstance(r.error, BatchFailed)):
        raise_for_single(result)
    return raise_for_single(results[-1])


def write_alert(
    store: BudgetStore,
    work: UnitOfWork,
    budget_id: str,
    period: str,
    due: AlertDue,
    details: dict[str, Any],
) -> None:
    """Write the alert once per (budget, period, key), with its event."""
    level, percent = due.level.value, due.threshold_percent
    alert = AlertRecord(budget_id, period, due.key, due.kind, level, percent, details, work.now)
    if store.insert_alert_if_absent(work.unit, work.tenant_id, alert):
        work.event("budget.alert", budget_id, {"kind": due.kind, **details})


class ReserveRefused(Exception):
    """A reserve the rules refused: carries the refusal out of its (rolled back) unit, with
    the alert to write in a unit of its own."""

    def __init__(
        self, rejection: Rejection, period: str, alert: AlertDue, details: dict[str, Any]
    ) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection
        self.period = period
        self.alert = alert
        self.details = details


def _locked_reservation(
    store: BudgetStore, work: UnitOfWork, budget_id: str, reference: str
) -> tuple[BudgetPolicy, ReservationRecord, Resolution | None]:
    """The budget (locked), the reservation ``reference`` and its resolution: in one statement
    when both exist, else locked and read one by one; ``not_found`` if either is missing."""
    locked = store.lock_reservation(
        work.unit, work.tenant_id, check_budget_id(budget_id), reference
    )
    if locked is not None and locked.reservation is not None:
        record = locked.reservation
        resolution = locked.resolution
        if not locked.fresh:  # resolved by a writer that committed while this one waited
            resolution = store.resolution(work.unit, work.tenant_id, record.transfer_id)
        return locked.policy, record, resolution
    policy = lock(store, work, budget_id)
    found = store.get_reservation(work.unit, work.tenant_id, policy.id, reference)
    if found is None:
        raise NotFound("reservation", reference)
    return policy, found, store.resolution(work.unit, work.tenant_id, found.transfer_id)


def charge(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    reference: str,
    *,
    amount: str | None = None,
    idempotency_key: str | None = None,
) -> ReservationView:
    """Charge (post) the reservation on redemption, in full or for ``amount`` (less); the rest
    is released. A second charge is ``already_charged``; a replay with the same
    ``idempotency_key`` returns the first result."""
    check_reference(reference)
    if idempotency_key is not None:
        check_reference(idempotency_key, "idempotency_key")
    store = store_of(ledger)

    use_case = partial(charge_within, store, budget_id, reference, amount, idempotency_key)
    return ledger.run(tenant_id, use_case)


def charge_within(
    store: BudgetStore,
    budget_id: str,
    reference: str,
    amount: str | None,
    idempotency_key: str | None,
    work: UnitOfWork,
) -> ReservationView:
    """``charge`` in a caller's unit of work."""
    check_reference(reference)
    policy, record, resolution = _locked_reservation(store, work, budget_id, reference)
    minor = None if amount is None else parse_positive(amount, policy.scale)
    post_id = None if idempotency_key is None else charge_id(policy.id, idempotency_key)
    if check_charge(policy, reference, resolution, post_id, idempotency_key, minor):
        return reservation_view(policy, record, resolution, replayed=True)
    op = PostPending(
        record.transfer_id,
        id=post_id,
        amount=None if minor is None else policy.amount(minor),
        metadata={"budget_id": policy.id, "reference": reference},
    )
    posted = raise_for_single(work.submit([op])[0])
    work.event("budget.charged", policy.id, {"reference": reference})
    return reservation_view(policy, record, Resolution(posted.id, "post", posted.amount_minor))


def release(ledger: Ledger, tenant_id: str, budget_id: str, reference: str) -> ReservationView:
    """Release (void) the reservation: its amount returns to available. Releasing a released
    or expired one returns it unchanged (``replayed``); a charged one is ``already_charged``."""
    check_reference(reference)
    store = store_of(ledger)

    use_case = partial(release_within, store, budget_id, reference)
    return ledger.run(tenant_id, use_case)


def release_within(
    store: BudgetStore, budget_id: str, reference: str, work: UnitOfWork
) -> ReservationView:
    """``release`` in a caller's unit of work."""
    check_reference(reference)
    policy, record, resolution = _locked_reservation(store, work, budget_id, reference)
    if check_release(policy, reference, resolution):
        return reservation_view(policy, record, resolution, replayed=True)
    op = VoidPending(record.transfer_id, metadata={"budget_id": policy.id})
    voided = raise_for_single(work.submit([op])[0])
    work.event("budget.released", policy.id, {"reference": reference})
    return reservation_view(policy, record, Resolution(voided.id, "void", voided.amount_minor))


def get_reservation(
    ledger: Ledger, tenant_id: str, budget_id: str, reference: str
) -> ReservationView:
    policy = get_budget(ledger, tenant_id, budget_id)
    store = store_of(ledger)
    record = store.get_reservation(None, tenant_id, policy.id, check_reference(reference))
    if record is None:
        raise NotFound("reservation", reference)
    transfer = ledger.get_transfer(tenant_id, record.transfer_id)
    resolution = None
    if transfer.resolved_by is not None:
        resolved = ledger.get_transfer(tenant_id, transfer.resolved_by)
        resolution = Resolution(resolved.id, resolved.phase.value, resolved.amount_minor)
    return reservation_view(policy, record, resolution)
