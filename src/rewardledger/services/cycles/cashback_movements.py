"""Cashback movements: accruals, reversals, and applying a closed cycle's cashback to debt.

Owns: the cashback movement use cases. Each movement is one unit of work: it marks its
(account, cycle) dirty, which on PostgreSQL locks that pair, then reads the cycle's credited
cashback and cap, credits at most the headroom (all of it for an override), posts the credited
part as a journal transfer from the tenant's ``cashback-expense`` account to the member's
account, and stores the movement (requested and credited amounts, cap snapshot, override
flag). Protects: concurrent accruals of one cycle never pass its cap (unless an override); a
movement id is an idempotency key; a refund takes back exactly what its accrual credited, once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from rewardledger.domain.cycle_writes import AccrualLock, MissingAccounts, ReversalWrite
from rewardledger.domain.cycles import (
    CashbackKind,
    CashbackMovement,
    CashbackProgram,
    DebtKind,
    DirtyMark,
    LedgerName,
    cashback_cycle_closes_at,
    check_tag,
    credited_minor,
)
from rewardledger.domain.errors import CycleNotClosed, ValidationError
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.replay import check_replay
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.cycles import debt_movements
from rewardledger.services.cycles.cashback_programme import EXPENSE_ACCOUNT, get_program
from rewardledger.services.cycles.common import (
    check_currency,
    fixed_programme,
    holder_id,
    instant_or_none,
    movement_id,
    new_token,
    non_negative,
    post_transfer,
)
from rewardledger.services.cycles.port import CycleStore, store_of
from rewardledger.services.cycles.projection import refresh_inline
from rewardledger.services.cycles.views import DebtResult, MovementResult

TRANSFER_PREFIX = "cb:"
_APPLY_NAMESPACE = uuid.UUID("0b6f3f9a-7f0e-4d1e-9d0c-5b3e2f1a9c77")


@dataclass(frozen=True, slots=True)
class Accrual:
    """Cashback earned on a purchase: ``spend`` is the qualifying spend, ``cashback`` what the
    programme grants for it (credited up to the cycle's cap unless ``override``)."""

    id: str
    account_id: str
    spend: str
    cashback: str
    currency: str | None = None
    occurred_at: datetime | None = None
    cycle_tag: str | None = None
    budget_cap: str | None = None
    override: bool = False


@dataclass(frozen=True, slots=True)
class Reversal:
    """A refund of the purchase of accrual ``reverses_id``: takes back its spend and its
    credited cashback, in the accrual's cycle. Its id is derived: ``<reverses_id>.reversal``."""

    reverses_id: str
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _CheckedAccrual:
    """An ``Accrual`` parsed against the programme: ids checked, amounts in minor units."""

    program: CashbackProgram
    scale: int
    id: str
    account_id: str
    spend_minor: int
    requested_minor: int
    cap_minor: int | None
    override: bool
    cycle_tag: str | None
    occurred_at: datetime | None


def reversal_id(reverses_id: str) -> str:
    return f"{reverses_id}.reversal"


def _check_accrual(ledger: Ledger, tenant_id: str, request: Accrual) -> _CheckedAccrual:
    program = fixed_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    identifier = movement_id(request.id)
    account_id = holder_id(request.account_id, "account_id")
    check_currency(request.currency, program.currency)
    spend_minor = parse_positive(request.spend, scale, field="spend")
    requested_minor = parse_positive(request.cashback, scale, field="cashback")
    cap = request.budget_cap
    cap_minor = None if cap is None else non_negative(cap, scale, "budget_cap")
    if not isinstance(request.override, bool):
        raise ValidationError("override must be true or false.", field="override")
    return _CheckedAccrual(
        program,
        scale,
        identifier,
        account_id,
        spend_minor,
        requested_minor,
        cap_minor,
        request.override,
        None if request.cycle_tag is None else check_tag(request.cycle_tag),
        instant_or_none(request.occurred_at, "occurred_at"),
    )


def accrue(ledger: Ledger, tenant_id: str, request: Accrual) -> MovementResult:
    accrual = _check_accrual(ledger, tenant_id, request)
    return ledger.run(tenant_id, partial(_accrue_within, store_of(ledger), accrual))


def _replayed(existing: CashbackMovement, accrual: _CheckedAccrual) -> MovementResult:
    check_replay(
        accrual.id,
        account_id=existing.account_id == accrual.account_id,
        kind=existing.kind is CashbackKind.ACCRUAL,
        spend=existing.spend_minor == accrual.spend_minor,
        cashback=existing.requested_minor == accrual.requested_minor,
        budget_cap=existing.budget_cap_minor == accrual.cap_minor,
        override=existing.override == accrual.override,
        cycle_tag=accrual.cycle_tag is None or existing.cycle_tag == accrual.cycle_tag,
    )
    return MovementResult(existing, True)


def _accrue_within(store: CycleStore, accrual: _CheckedAccrual, work: UnitOfWork) -> MovementResult:
    at = accrual.occurred_at or work.now
    tag = accrual.cycle_tag or work.tenant.cycle_tag(at)
    account_id = accrual.account_id
    # One statement: the member's account opened if missing, the pair's running totals
    # locked and read with its caps and the refresh mode; nothing when the id is stored.
    account = MissingAccounts([account_id], accrual.program.currency, None)
    pair = store.lock_cashback_pair(
        work.unit, AccrualLock(accrual.id, account_id, tag, account, work.now)
    )
    if pair is None:
        existing = store.get_cashback_movement(work.unit, accrual.id)
        assert existing is not None, accrual.id
        return _replayed(existing, accrual)
    cap = pair.cap_minor() if accrual.cap_minor is None else accrual.cap_minor
    credited = credited_minor(
        accrual.requested_minor, pair.totals.total_cashback_minor, cap, accrual.override
    )
    movement = CashbackMovement(
        id=accrual.id,
        account_id=account_id,
        cycle_tag=tag,
        kind=CashbackKind.ACCRUAL,
        spend_minor=accrual.spend_minor,
        requested_minor=accrual.requested_minor,
        cashback_minor=credited,
        budget_cap_minor=accrual.cap_minor,
        override=accrual.override,
        reverses_id=None,
        transfer_id=TRANSFER_PREFIX + accrual.id if credited > 0 else None,
        occurred_at=at,
        recorded_at=work.now,
    )
    mark = DirtyMark(LedgerName.CASHBACK, account_id, tag, new_token())
    store.store_accrual(work.unit, movement, pair.after(movement), mark.token)
    if credited > 0:
        _credit(work, accrual, tag, at, cap, credited)
    refresh_inline(work, store, mark, pair.mode)
    return MovementResult(movement, False)


def _credit(
    work: UnitOfWork,
    accrual: _CheckedAccrual,
    tag: str,
    at: datetime,
    cap_minor: int,
    credited_minor: int,
) -> str:
    """Post the credited part of an accrual from the expense account to the member's."""
    scale = accrual.scale
    return post_transfer(
        work,
        TransferRequest(
            id=TRANSFER_PREFIX + accrual.id,
            debit_account_id=EXPENSE_ACCOUNT,
            credit_account_id=accrual.account_id,
            asset=accrual.program.currency,
            amount=str(Amount(credited_minor, scale)),
            kind="cashback",
            reason="cashback.accrual",
            effective_at=at,
            metadata={
                "cycle_tag": tag,
                "spend": str(Amount(accrual.spend_minor, scale)),
                "requested": str(Amount(accrual.requested_minor, scale)),
                "budget_cap": str(Amount(cap_minor, scale)),
                "override": accrual.override,
            },
        ),
    )


def fixed_program(ledger: Ledger, tenant_id: str) -> CashbackProgram:
    """The cashback programme as first read: only its currency, which never changes once
    set, may be taken from it (the default cap is read fresh inside each accrual)."""
    return fixed_programme(ledger, tenant_id, "cashback", lambda: get_program(ledger, tenant_id))


def reverse(ledger: Ledger, tenant_id: str, request: Reversal) -> MovementResult:
    program = fixed_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    original_id = movement_id(request.reverses_id, "reverses_id")
    identifier = reversal_id(original_id)
    occurred = instant_or_none(request.occurred_at, "occurred_at")
    store = store_of(ledger)
    transfer_id = TRANSFER_PREFIX + identifier

    def use_case(work: UnitOfWork) -> MovementResult:
        # One statement: the replay check, the accrual read, the reversal stored, its mark.
        token = new_token()
        reversal = ReversalWrite(
            identifier, original_id, transfer_id, token, occurred or work.now, work.now
        )
        movement, replay, mode = store.reverse_cashback_movement(work.unit, reversal)
        if replay:
            return MovementResult(movement, True)
        if movement.transfer_id is not None:
            post_transfer(
                work,
                TransferRequest(
                    id=transfer_id,
                    debit_account_id=movement.account_id,
                    credit_account_id=EXPENSE_ACCOUNT,
                    asset=program.currency,
                    amount=str(Amount(-movement.cashback_minor, scale)),
                    kind="reverse",
                    reason="cashback.reversal",
                    effective_at=movement.occurred_at,
                    metadata={"cycle_tag": movement.cycle_tag, "reverses": original_id},
                ),
            )
        mark = DirtyMark(LedgerName.CASHBACK, movement.account_id, movement.cycle_tag, token)
        refresh_inline(work, store, mark, mode)
        return MovementResult(movement, False)

    return ledger.run(tenant_id, use_case)


# Cashback to debt ----------------------------------------------------------------------------


def apply_to_debt_id(account_id: str, tag: str) -> str:
    """The debt movement id of a cycle's cashback applied to debt: one per (account, cycle)."""
    return f"cashback-{uuid.uuid5(_APPLY_NAMESPACE, f'{account_id}/{tag}')}"


def apply_to_debt(
    ledger: Ledger,
    tenant_id: str,
    account_id: str,
    cycle_tag: str,
    *,
    person_id: str,
    debt_cycle_tag: str | None = None,
) -> DebtResult:
    """Apply a closed cycle's credited cashback as a ``discount`` on a person's debt, once per
    (account, cycle): the cashback leaves the member's account for the person's debt account."""
    program = get_program(ledger, tenant_id)
    debt_program = debt_movements.get_program(ledger, tenant_id)
    if debt_program.currency != program.currency:
        raise ValidationError(
            f"The debt programme counts {debt_program.currency} and cashback {program.currency}; "
            "cashback can be applied only to debt in the same currency.",
            field="person_id",
        )
    account = holder_id(account_id, "account_id")
    tag = check_tag(cycle_tag)
    person = holder_id(person_id, "person_id")
    debt_tag = None if debt_cycle_tag is None else check_tag(debt_cycle_tag, "debt_cycle_tag")
    scale = ledger.get_asset(tenant_id, program.currency).scale
    identifier = apply_to_debt_id(account, tag)
    store = store_of(ledger)
    debt_movements.ensure_debt_accounts(ledger, tenant_id, person, program.currency)

    def use_case(work: UnitOfWork) -> DebtResult:
        existing = store.get_debt_movement(work.unit, identifier)
        if existing is not None:
            check_replay(identifier, person_id=existing.person_id == person)
            return DebtResult(existing, True)
        closes_at = cashback_cycle_closes_at(tag, work.tenant.zone, program.grace_days)
        if work.now < closes_at:
            raise CycleNotClosed(account, tag, closes_at.isoformat())
        store.mark_dirty(work.unit, LedgerName.CASHBACK, account, tag)  # no accrual meanwhile
        credited = store.cashback_totals(work.unit, account, tag).total_cashback_minor
        if credited <= 0:
            raise ValidationError(
                f"The cycle {tag} of account {account!r} has no cashback to apply.",
                field="cycle_tag",
            )
        discount = debt_movements.CheckedDebt(
            identifier, person, DebtKind.DISCOUNT, credited, debt_tag, due_at=None, occurred_at=None
        )
        movement, replay = debt_movements.record_within(
            work, store, debt_program, scale, discount, source_account_id=account
        )
        if replay:  # a twin applied it meanwhile
            check_replay(identifier, person_id=movement.person_id == person)
        return DebtResult(movement, replay)

    return ledger.run(tenant_id, use_case)


# The batch entry points (``services.migrate``): check an accrual at the edge, then write any
# number of them in one unit of work.
CheckedAccrual = _CheckedAccrual
check_accrual = _check_accrual
accrue_within = _accrue_within
