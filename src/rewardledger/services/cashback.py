"""Cashback: the programme, account settings, accruals, reversals and applying cashback to debt.

Owns: the cashback use cases. Each movement is one unit of work: it marks its (account,
cycle) dirty, which on PostgreSQL locks that pair, then reads the cycle's credited cashback
and cap, credits at most the headroom (all of it for an override), posts the credited part as
a journal transfer from the tenant's ``cashback-expense`` account to the member's account, and
stores the movement (requested and credited amounts, cap snapshot, override flag). Protects:
concurrent accruals of one cycle never pass its cap (unless an override); a movement id is an
idempotency key; a refund takes back exactly what its accrual credited, once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain import ids
from rewardledger.domain.cycles import (
    CashbackAccountSettings,
    CashbackKind,
    CashbackMovement,
    CashbackProgram,
    DebtKind,
    LedgerName,
    budget_cap,
    cashback_cycle_closes_at,
    check_grace_days,
    check_tag,
    credited_minor,
)
from rewardledger.domain.errors import (
    CycleNotClosed,
    IdempotencyConflict,
    NotFound,
    ProgramNotConfigured,
    ValidationError,
)
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.transfers import TransferRequest, check_instant
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import debt as debt_service
from rewardledger.services.cycles import (
    CycleStore,
    ensure_account,
    holder_id,
    movement_id,
    refresh_inline,
    run_opening_accounts,
    store_of,
)

EXPENSE_ACCOUNT = "cashback-expense"
TRANSFER_PREFIX = "cb:"
_APPLY_NAMESPACE = uuid.UUID("0b6f3f9a-7f0e-4d1e-9d0c-5b3e2f1a9c77")


# Programme and accounts ----------------------------------------------------------------------


def set_program(
    ledger: Ledger,
    tenant_id: str,
    *,
    currency: str,
    minimum_spend: str,
    default_cap: str,
    grace_days: int = 0,
) -> CashbackProgram:
    """Set the tenant's cashback programme (currency, minimum spend per cycle, default cap,
    days of grace after a cycle's month before it closes)."""
    asset = ledger.get_asset(tenant_id, ids.asset_code(currency, "currency"))
    program = CashbackProgram(
        asset.code,
        _non_negative(minimum_spend, asset.scale, "minimum_spend"),
        _non_negative(default_cap, asset.scale, "default_cap"),
        check_grace_days(grace_days),
    )
    existing = store_of(ledger).get_cashback_program(tenant_id)
    if existing is not None and existing.currency != program.currency:
        raise ValidationError(
            "currency cannot change once the cashback programme is set; its movements are in "
            f"{existing.currency}.",
            field="currency",
        )
    ensure_account(ledger, tenant_id, EXPENSE_ACCOUNT, asset.code)
    store = store_of(ledger)
    ledger.run(tenant_id, lambda work: store.put_cashback_program(work.unit, program, work.now))
    return program


def get_program(ledger: Ledger, tenant_id: str) -> CashbackProgram:
    ledger.get_tenant(tenant_id)
    program = store_of(ledger).get_cashback_program(tenant_id)
    if program is None:
        raise ProgramNotConfigured("cashback")
    return program


def set_account(
    ledger: Ledger,
    tenant_id: str,
    account_id: str,
    *,
    default_cap: str | None = None,
    enrolled: bool = True,
) -> CashbackAccountSettings:
    """Set an account's default cap (None: the programme's) and enrolment."""
    program = get_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    if not isinstance(enrolled, bool):
        raise ValidationError("enrolled must be true or false.", field="enrolled")
    settings = CashbackAccountSettings(
        holder_id(account_id, "account_id"),
        None if default_cap is None else _non_negative(default_cap, scale, "default_cap"),
        enrolled,
    )
    store = store_of(ledger)
    ensure_account(ledger, tenant_id, settings.account_id, program.currency)

    def use_case(work: UnitOfWork) -> None:
        store.put_cashback_account(work.unit, settings, work.now)
        # Cap and enrolment feed the rows of every cycle of the account: recompute them.
        for tag in store.cashback_cycles_of(work.unit, settings.account_id):
            mark = store.mark_dirty(work.unit, LedgerName.CASHBACK, settings.account_id, tag)
            refresh_inline(work, store, mark)

    ledger.run(tenant_id, use_case)
    return settings


def _non_negative(text: str, scale: int, field: str) -> int:
    minor = Amount.parse(text, scale, field=field).minor
    if minor < 0:
        raise ValidationError(f"{field} must be zero or more.", field=field)
    return minor


# Movements -----------------------------------------------------------------------------------


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
class MovementResult:
    movement: CashbackMovement
    replayed: bool


def _instant(value: datetime | None) -> datetime | None:
    return None if value is None else check_instant(value, "occurred_at")


def reversal_id(reverses_id: str) -> str:
    return f"{reverses_id}.reversal"


def accrue(ledger: Ledger, tenant_id: str, request: Accrual) -> MovementResult:
    program = get_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    identifier = movement_id(request.id)
    account_id = holder_id(request.account_id, "account_id")
    if request.currency is not None and request.currency != program.currency:
        raise ValidationError(
            f"currency must be the programme's, {program.currency}.", field="currency"
        )
    spend_minor = parse_positive(request.spend, scale, field="spend")
    requested_minor = parse_positive(request.cashback, scale, field="cashback")
    cap_minor = (
        None
        if request.budget_cap is None
        else _non_negative(request.budget_cap, scale, "budget_cap")
    )
    if not isinstance(request.override, bool):
        raise ValidationError("override must be true or false.", field="override")
    tag_given = None if request.cycle_tag is None else check_tag(request.cycle_tag)
    occurred = (
        None if request.occurred_at is None else check_instant(request.occurred_at, "occurred_at")
    )
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> MovementResult:
        existing = store.get_cashback_movement(work.unit, identifier)
        if existing is not None:
            differing = [
                name
                for name, same in (
                    ("account_id", existing.account_id == account_id),
                    ("kind", existing.kind is CashbackKind.ACCRUAL),
                    ("spend", existing.spend_minor == spend_minor),
                    ("cashback", existing.requested_minor == requested_minor),
                    ("budget_cap", existing.budget_cap_minor == cap_minor),
                    ("override", existing.override == request.override),
                    ("cycle_tag", tag_given is None or existing.cycle_tag == tag_given),
                )
                if not same
            ]
            if differing:
                raise IdempotencyConflict(identifier, differing)
            return MovementResult(existing, True)
        at = occurred or work.now
        tag = tag_given or work.tenant.cycle_tag(at)
        mark = store.mark_dirty(work.unit, LedgerName.CASHBACK, account_id, tag)  # the pair lock
        totals = store.cashback_totals(work.unit, account_id, tag)
        settings = store.get_cashback_account(work.tenant_id, account_id, work.unit)
        cap = (
            cap_minor
            if cap_minor is not None
            else budget_cap(totals.latest_cap_minor, settings, program)
        )
        credited = credited_minor(
            requested_minor, totals.total_cashback_minor, cap, request.override
        )
        transfer_id = None
        if credited > 0:
            transfer_id = TRANSFER_PREFIX + identifier
            raise_for_single(
                work.submit(
                    [
                        TransferRequest(
                            id=transfer_id,
                            debit_account_id=EXPENSE_ACCOUNT,
                            credit_account_id=account_id,
                            asset=program.currency,
                            amount=Amount(credited, scale).__str__(),
                            kind="cashback",
                            reason="cashback.accrual",
                            effective_at=at,
                            metadata={
                                "cycle_tag": tag,
                                "spend": str(Amount(spend_minor, scale)),
                                "requested": str(Amount(requested_minor, scale)),
                                "budget_cap": str(Amount(cap, scale)),
                                "override": request.override,
                            },
                        )
                    ]
                )[0]
            )
        movement = CashbackMovement(
            id=identifier,
            account_id=account_id,
            cycle_tag=tag,
            kind=CashbackKind.ACCRUAL,
            spend_minor=spend_minor,
            requested_minor=requested_minor,
            cashback_minor=credited,
            budget_cap_minor=cap_minor,
            override=request.override,
            reverses_id=None,
            transfer_id=transfer_id,
            occurred_at=at,
            recorded_at=work.now,
        )
        store.insert_cashback_movement(work.unit, movement)
        refresh_inline(work, store, mark)
        return MovementResult(movement, False)

    return run_opening_accounts(ledger, tenant_id, use_case, [account_id], program.currency)


def reverse(ledger: Ledger, tenant_id: str, request: Reversal) -> MovementResult:
    program = get_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    original_id = movement_id(request.reverses_id, "reverses_id")
    identifier = reversal_id(original_id)
    occurred = (
        None if request.occurred_at is None else check_instant(request.occurred_at, "occurred_at")
    )
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> MovementResult:
        existing = store.get_cashback_movement(work.unit, identifier)
        if existing is not None:
            return MovementResult(existing, True)
        original = store.get_cashback_movement(work.unit, original_id)
        if original is None or original.kind is not CashbackKind.ACCRUAL:
            raise NotFound("cashback accrual", original_id)
        mark = store.mark_dirty(
            work.unit, LedgerName.CASHBACK, original.account_id, original.cycle_tag
        )
        at = occurred or work.now
        transfer_id = None
        if original.cashback_minor > 0:
            transfer_id = TRANSFER_PREFIX + identifier
            raise_for_single(
                work.submit(
                    [
                        TransferRequest(
                            id=transfer_id,
                            debit_account_id=original.account_id,
                            credit_account_id=EXPENSE_ACCOUNT,
                            asset=program.currency,
                            amount=str(Amount(original.cashback_minor, scale)),
                            kind="reverse",
                            reason="cashback.reversal",
                            effective_at=at,
                            metadata={"cycle_tag": original.cycle_tag, "reverses": original.id},
                        )
                    ]
                )[0]
            )
        movement = CashbackMovement(
            id=identifier,
            account_id=original.account_id,
            cycle_tag=original.cycle_tag,
            kind=CashbackKind.REVERSAL,
            spend_minor=-original.spend_minor,
            requested_minor=-original.requested_minor,
            cashback_minor=-original.cashback_minor,
            budget_cap_minor=None,
            override=False,
            reverses_id=original.id,
            transfer_id=transfer_id,
            occurred_at=at,
            recorded_at=work.now,
        )
        store.insert_cashback_movement(work.unit, movement)
        refresh_inline(work, store, mark)
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
) -> debt_service.DebtResult:
    """Apply a closed cycle's credited cashback as a ``discount`` on a person's debt, once per
    (account, cycle): the cashback leaves the member's account for the person's debt account."""
    program = get_program(ledger, tenant_id)
    debt_program = debt_service.get_program(ledger, tenant_id)
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
    store: CycleStore = store_of(ledger)
    debt_service.ensure_debt_accounts(ledger, tenant_id, person, program.currency)

    def use_case(work: UnitOfWork) -> debt_service.DebtResult:
        existing = store.get_debt_movement(work.unit, identifier)
        if existing is not None:
            if existing.person_id != person:
                raise IdempotencyConflict(identifier, ["person_id"])
            return debt_service.DebtResult(existing, True)
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
        movement = debt_service.record_within(
            work,
            store,
            debt_program,
            scale,
            identifier=identifier,
            person_id=person,
            kind=DebtKind.DISCOUNT,
            amount_minor=credited,
            cycle_tag=debt_tag,
            due_at=None,
            occurred_at=None,
            source_account_id=account,
        )
        return debt_service.DebtResult(movement, False)

    return ledger.run(tenant_id, use_case)
