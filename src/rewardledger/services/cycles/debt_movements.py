"""Debt: the programme and a person's debt movements (opening, charge, repayment, discount).

Owns: the debt use cases. Each movement is one unit of work: it marks its (person, cycle)
dirty, posts a journal transfer on the person's debt account ``debt:<person_id>`` against the
tenant's ``debt-control`` account (opening and charge debit the person's account, so its
balance is minus the debt; repayment and discount credit it), and stores the movement.
Protects: a movement id is an idempotency key; a cycle tag is the statement's, computed in the
tenant's zone with the programme's closing day (see docs/cycles.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain import ids
from rewardledger.domain.cycle_writes import MissingAccounts
from rewardledger.domain.cycles import (
    DEBT_INCREASING,
    DebtKind,
    DebtMovement,
    DebtProgram,
    DirtyMark,
    LedgerName,
    check_day,
    check_grace_days,
    check_tag,
    debt_cycle_tag,
)
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.replay import check_replay
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.cycles.common import (
    check_currency,
    configured_programme,
    ensure_account,
    fixed_programme,
    holder_id,
    instant_or_none,
    movement_id,
    new_token,
    post_transfer,
    put_programme,
)
from rewardledger.services.cycles.port import CycleStore, store_of
from rewardledger.services.cycles.projection import refresh_inline
from rewardledger.services.cycles.views import DebtResult

CONTROL_ACCOUNT = "debt-control"
DEBT_ACCOUNT_PREFIX = "debt:"
TRANSFER_PREFIX = "debt:"
# The control account and each person's debt account are moved by debt movements only.
MANAGED_BY = "debt"


def debt_account(person_id: str) -> str:
    return DEBT_ACCOUNT_PREFIX + person_id


def ensure_debt_accounts(ledger: Ledger, tenant_id: str, person_id: str, currency: str) -> None:
    ensure_account(ledger, tenant_id, CONTROL_ACCOUNT, currency, MANAGED_BY)
    ensure_account(ledger, tenant_id, debt_account(person_id), currency, MANAGED_BY)


def set_program(
    ledger: Ledger,
    tenant_id: str,
    *,
    currency: str,
    closing_day: int = 31,
    due_day: int = 15,
    grace_days: int = 0,
) -> DebtProgram:
    """Statements close at the end of ``closing_day`` (clamped to the month) and are due at the
    end of ``due_day`` of the next month (clamped); unpaid debt is overdue after the grace."""
    asset = ledger.get_asset(tenant_id, ids.asset_code(currency, "currency"))
    program = DebtProgram(
        asset.code,
        check_day(closing_day, "closing_day"),
        check_day(due_day, "due_day"),
        check_grace_days(grace_days),
    )
    store = store_of(ledger)
    existing = store.get_debt_program(tenant_id)
    if existing is not None and (existing.currency, existing.closing_day) != (
        program.currency,
        program.closing_day,
    ):
        raise ValidationError(
            "currency and closing_day cannot change once the debt programme is set: they "
            "decide the cycle of every recorded movement.",
            field="closing_day",
        )
    own_account = (CONTROL_ACCOUNT, MANAGED_BY)
    return put_programme(ledger, tenant_id, program, store.put_debt_program, own_account)


def get_program(ledger: Ledger, tenant_id: str) -> DebtProgram:
    return configured_programme(ledger, tenant_id, "debt", store_of(ledger).get_debt_program)


@dataclass(frozen=True, slots=True)
class DebtRequest:
    """A change of a person's debt. ``cycle_tag`` None means the statement ``occurred_at`` (or
    now) falls in; ``due_at`` overrides the programme's due date for that cycle."""

    id: str
    person_id: str
    kind: str
    amount: str
    currency: str | None = None
    cycle_tag: str | None = None
    due_at: datetime | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckedDebt:
    """A ``DebtRequest`` checked at the edge (None: as in the request), amount in minor units."""

    id: str
    person_id: str
    kind: DebtKind
    amount_minor: int
    cycle_tag: str | None
    due_at: datetime | None
    occurred_at: datetime | None


def _kind(value: str) -> DebtKind:
    try:
        return DebtKind(value)
    except ValueError:
        raise ValidationError(
            "kind must be one of opening, charge, repayment, discount.", field="kind"
        ) from None


def fixed_program(ledger: Ledger, tenant_id: str) -> DebtProgram:
    """The debt programme, from memory once read: a movement uses only its currency and
    closing day, which never change once set (``set_program`` refuses to)."""
    return fixed_programme(ledger, tenant_id, "debt", lambda: get_program(ledger, tenant_id))


def record(ledger: Ledger, tenant_id: str, request: DebtRequest) -> DebtResult:
    program = fixed_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    identifier = movement_id(request.id)
    person = holder_id(request.person_id, "person_id")
    kind = _kind(request.kind)
    check_currency(request.currency, program.currency)
    amount_minor = parse_positive(request.amount, scale)
    tag = None if request.cycle_tag is None else check_tag(request.cycle_tag)
    due_at = instant_or_none(request.due_at, "due_at")
    occurred = instant_or_none(request.occurred_at, "occurred_at")
    store = store_of(ledger)
    change = CheckedDebt(identifier, person, kind, amount_minor, tag, due_at, occurred)

    def use_case(work: UnitOfWork) -> DebtResult:
        movement, replay = record_within(work, store, program, scale, change)
        if replay:
            check_replay(
                identifier,
                person_id=movement.person_id == person,
                kind=movement.kind is kind,
                amount=movement.amount_minor == amount_minor,
                cycle_tag=tag is None or movement.cycle_tag == tag,
                due_at=movement.due_at == due_at,
            )
        return DebtResult(movement, replay)

    return ledger.run(tenant_id, use_case)


def record_within(
    work: UnitOfWork,
    store: CycleStore,
    program: DebtProgram,
    scale: int,
    change: CheckedDebt,
    *,
    source_account_id: str | None = None,
) -> tuple[DebtMovement, bool]:
    """Write one debt movement in ``work``: accounts, row, mark, transfer (and the inline
    refresh). Returns the movement and whether it is a replay (the stored one, unchanged).

    ``source_account_id`` names where a discount's value comes from (a member's cashback
    account); otherwise the counter-account is the tenant's ``debt-control``.
    """
    person_id, kind, amount_minor = change.person_id, change.kind, change.amount_minor
    at = change.occurred_at or work.now
    tag = change.cycle_tag or debt_cycle_tag(at, work.tenant.zone, program.closing_day)
    counter = source_account_id or CONTROL_ACCOUNT
    person_account = debt_account(person_id)
    increasing = kind in DEBT_INCREASING
    request = TransferRequest(
        id=TRANSFER_PREFIX + change.id,
        debit_account_id=person_account if increasing else counter,
        credit_account_id=counter if increasing else person_account,
        asset=program.currency,
        amount=str(Amount(amount_minor, scale)),
        kind="charge" if increasing else "repayment",
        reason=f"debt.{kind.value}",
        effective_at=at,
        metadata={"cycle_tag": tag, "person_id": person_id},
    )
    movement = DebtMovement(
        id=change.id,
        person_id=person_id,
        cycle_tag=tag,
        kind=kind,
        amount_minor=amount_minor,
        due_at=change.due_at,
        transfer_id=request.id,
        occurred_at=at,
        recorded_at=work.now,
    )
    # One statement: the person's missing accounts opened, the movement stored unless its id
    # is stored already (a replay: nothing is written), its pair marked dirty.
    mark = DirtyMark(LedgerName.DEBT, person_id, tag, new_token())
    opened = [person_account] if source_account_id else [CONTROL_ACCOUNT, person_account]
    accounts = MissingAccounts(opened, program.currency, MANAGED_BY)
    stored, mode = store.record_debt_movement(work.unit, movement, mark.token, accounts)
    if stored is not None:
        return stored, True
    post_transfer(work, request)
    refresh_inline(work, store, mark, mode)
    return movement, False
