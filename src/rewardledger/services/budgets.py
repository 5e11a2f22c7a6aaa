"""Campaign budgets: fund, reserve, charge, release, correct; caps, alerts, periods,
reconciliation and reports (docs/budgets.md explains the meaning of every figure).

Owns: one function per use case. Each write runs in ONE unit of work with its journal
transfers, and starts by locking the budget's row, so that the hard cap is checked and the
reserve written with no other writer in between (invariant 4, CONVENTIONS.md rule 10).

How budgets sit on the core (glossary: reserve / charge / release = pending / post / void):
    budgets:funding:<CUR>     the tenant's money put into budgets (goes below zero)
    budget:<id>:<period>      one account per (budget, period), no-negative: its funds
    budgets:issued:<CUR>      rewards issued: where reserved and charged money goes
    fund      budgets:funding -> budget period account          (posted)
    reserve   budget period account -> budgets:issued           (pending, optional timeout)
    charge    post of that pending transfer, in full or for less
    release   void of it (or its expiry by the core's due-jobs "holds" step)
    reverse   a correcting transfer the other way round, with a note, by an admin
    rollover  old period account -> new period account          (posted)
So a period account's open pending debits ARE its reserved figure and an expiry kept by the
core keeps it right with no work here.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from rewardledger.domain.budgets import (
    BUILT_IN_CURRENCIES,
    BUILT_IN_CURRENCY_SCALE,
    DEFAULT_THRESHOLDS_PERCENT,
    ENTRY_TYPES,
    KIND_FUND,
    KIND_RESERVE,
    KIND_REVERSE,
    KIND_ROLLOVER,
    AlertDue,
    AlertRecord,
    BudgetPolicy,
    CorrectionRecord,
    EntryRecord,
    Figures,
    KindTotals,
    MemberUsage,
    PeriodRecord,
    ReservationRecord,
    Resolution,
    alert_payload,
    alerts_due,
    check_policy,
    check_reserve,
    entry_type,
    percent_text,
    period_key,
    rejection_alert,
)
from rewardledger.domain.budgets import (
    budget_id as check_budget_id,
)
from rewardledger.domain.budgets import (
    reference as check_reference,
)
from rewardledger.domain.errors import (
    AlreadyCharged,
    AlreadyExists,
    CurrencyMismatch,
    IdempotencyConflict,
    NotFound,
    NotPending,
    Rejection,
    ValidationError,
)
from rewardledger.domain.ids import asset_code
from rewardledger.domain.limits import (
    BUDGET_NOTE_LENGTH_MAX,
    BUDGETS_PER_TENANT_REPORT_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    PENDING_TIMEOUT_SECONDS_MAX,
)
from rewardledger.domain.money import parse_positive
from rewardledger.domain.tenants import display_name
from rewardledger.domain.text import check_storable
from rewardledger.domain.transfers import PostPending, TransferRequest, VoidPending
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.ledger.unit import UnitOfWork


class BudgetStore(Protocol):
    """What the budget service needs of storage (``storage.budgets.SqlBudgetStore``).

    Methods taking ``unit`` run inside that unit of work's transaction; ``unit=None`` reads
    outside any.
    """

    def insert_budget(self, unit: StorageUnit, policy: BudgetPolicy) -> None: ...
    def lock_budget(
        self, unit: StorageUnit, tenant_id: str, budget_id: str
    ) -> tuple[BudgetPolicy, str | None] | None: ...
    def get_budget(self, tenant_id: str, budget_id: str) -> BudgetPolicy | None: ...
    def list_budgets(self, tenant_id: str, after: str | None, limit: int) -> list[BudgetPolicy]: ...
    def set_current_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str
    ) -> None: ...
    def get_period(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> PeriodRecord | None: ...
    def periods(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str
    ) -> list[PeriodRecord]: ...
    def insert_period(
        self,
        unit: StorageUnit,
        tenant_id: str,
        budget_id: str,
        period: str,
        account_id: str,
        now: datetime,
    ) -> None: ...
    def add_to_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, **deltas: int
    ) -> None: ...
    def ensure_account(
        self,
        unit: StorageUnit,
        tenant_id: str,
        account_id: str,
        asset_code: str,
        *,
        no_negative: bool,
        now: datetime,
    ) -> bool: ...
    def account_totals(
        self, unit: ReadUnit | None, tenant_id: str, account_ids: Sequence[str]
    ) -> dict[str, tuple[int, int, int]]: ...
    def journal_row(
        self, unit: StorageUnit, tenant_id: str, transfer_id: str
    ) -> EntryRecord | None: ...
    def resolution(
        self, unit: StorageUnit, tenant_id: str, pending_id: str
    ) -> Resolution | None: ...
    def get_reservation(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, reference: str
    ) -> ReservationRecord | None: ...
    def insert_reservation(self, unit: StorageUnit, record: ReservationRecord) -> None: ...
    def member_usage(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, member_key: str
    ) -> tuple[int, int]: ...
    def reservations_total(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> int: ...
    def insert_alert_if_absent(
        self,
        unit: StorageUnit,
        tenant_id: str,
        budget_id: str,
        period: str,
        due: AlertDue,
        details: dict[str, Any],
        now: datetime,
    ) -> bool: ...
    def alerts(self, tenant_id: str, budget_id: str | None, limit: int) -> list[AlertRecord]: ...
    def corrected_amount(self, unit: StorageUnit, tenant_id: str, reverses_id: str) -> int: ...
    def insert_correction(self, unit: StorageUnit, record: CorrectionRecord) -> None: ...
    def corrections(self, tenant_id: str, budget_id: str) -> list[CorrectionRecord]: ...
    def kind_totals(
        self,
        unit: ReadUnit | None,
        tenant_id: str,
        account_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> KindTotals: ...
    def open_pending_total(self, unit: ReadUnit | None, tenant_id: str, account_id: str) -> int: ...
    def snapshot(self, tenant_id: str) -> AbstractContextManager[ReadUnit]: ...
    def entries(
        self,
        tenant_id: str,
        account_ids: Sequence[str],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[EntryRecord]: ...


STORE: Port[BudgetStore] = Port("budgets")


def _store(ledger: Ledger) -> BudgetStore:
    return ledger.extension(STORE)


# Account and journal ids ---------------------------------------------------------------------


def funding_account(currency: str) -> str:
    return f"budgets:funding:{currency}"


def issued_account(currency: str) -> str:
    return f"budgets:issued:{currency}"


def period_account(budget: str, period: str) -> str:
    return f"budget:{budget}:{period}"


def _fund_id(budget: str, key: str) -> str:
    return f"budget:{budget}:fund:{key}"


def _reserve_id(budget: str, reference: str) -> str:
    return f"budget:{budget}:res:{reference}"


def _charge_id(budget: str, key: str) -> str:
    return f"budget:{budget}:charge:{key}"


def _correction_id(budget: str, key: str) -> str:
    return f"budget:{budget}:rev:{key}"


def _rollover_id(budget: str, from_period: str, number: int) -> str:
    return f"budget:{budget}:roll:{from_period}:{number}"


# Views ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Utilization:
    """A period's figures as decimal strings (docs/budgets.md defines each)."""

    budget_id: str
    period: str
    currency: str
    hard_cap: str
    soft_cap: str
    funded: str
    rolled_in: str
    rolled_out: str
    reversed: str
    reserved: str
    charged: str
    released: str
    used: str
    balance: str
    available: str
    remaining: str
    utilization_percent: str
    soft_cap_exceeded: bool
    hard_cap_approaching: bool


def _utilization(policy: BudgetPolicy, period: str, figures: Figures) -> Utilization:
    a = policy.amount
    remaining = max(0, min(figures.available, policy.hard_cap_minor - figures.used))
    top = max(policy.thresholds_percent)
    return Utilization(
        budget_id=policy.id,
        period=period,
        currency=policy.currency,
        hard_cap=a(policy.hard_cap_minor),
        soft_cap=a(policy.soft_cap_minor),
        funded=a(figures.funded),
        rolled_in=a(figures.rolled_in),
        rolled_out=a(figures.rolled_out),
        reversed=a(figures.reversed_funds),
        reserved=a(figures.reserved),
        charged=a(figures.charged),
        released=a(figures.released),
        used=a(figures.used),
        balance=a(figures.balance),
        available=a(figures.available),
        remaining=a(remaining),
        utilization_percent=percent_text(figures.used, policy.hard_cap_minor),
        soft_cap_exceeded=figures.used > policy.soft_cap_minor,
        hard_cap_approaching=figures.used * 100 >= top * policy.hard_cap_minor,
    )


@dataclass(frozen=True, slots=True)
class ReservationView:
    budget_id: str
    reference: str
    transfer_id: str
    period: str
    member_key: str | None
    amount: str
    state: str  # reserved, charged, released, expired
    charged_amount: str | None
    resolved_by: str | None
    expires_at: datetime | None
    created_at: datetime
    replayed: bool = False


_STATE_BY_PHASE = {"post": "charged", "void": "released", "expire": "expired"}


def _reservation_view(
    policy: BudgetPolicy,
    record: ReservationRecord,
    resolution: Resolution | None,
    *,
    replayed: bool = False,
) -> ReservationView:
    charged = None
    if resolution is not None and resolution.phase == "post":
        charged = policy.amount(resolution.amount_minor)
    return ReservationView(
        budget_id=record.budget_id,
        reference=record.reference,
        transfer_id=record.transfer_id,
        period=record.period,
        member_key=record.member_key,
        amount=policy.amount(record.amount_minor),
        state="reserved" if resolution is None else _STATE_BY_PHASE[resolution.phase],
        charged_amount=charged,
        resolved_by=None if resolution is None else resolution.transfer_id,
        expires_at=record.expires_at,
        created_at=record.created_at,
        replayed=replayed,
    )


@dataclass(frozen=True, slots=True)
class TopupResult:
    budget_id: str
    period: str
    transfer_id: str
    amount: str
    currency: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class CorrectionView:
    budget_id: str
    transfer_id: str
    period: str
    reverses_id: str
    amount: str
    note: str
    actor: str
    created_at: datetime
    replayed: bool = False


# Create and read budgets ---------------------------------------------------------------------


def create_budget(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    currency: str,
    hard_cap: str,
    soft_cap: str | None = None,
    name: str | None = None,
    alert_thresholds: Sequence[int] = DEFAULT_THRESHOLDS_PERCENT,
    period: str = "monthly",
    rollover: bool = False,
    member_cap_amount: str | None = None,
    member_cap_count: int | None = None,
) -> BudgetPolicy:
    """Create a budget; creating it again with the same values returns it unchanged.

    ``currency``: USD and ZWG are always available (created with 2 decimals on first use);
    any other must be an asset the tenant created. ``soft_cap`` defaults to the hard cap.
    """
    check_budget_id(budget_id)
    code = asset_code(currency, "currency")
    if code in BUILT_IN_CURRENCIES and code not in ledger.assets(tenant_id):
        ledger.create_asset(tenant_id, code, scale=BUILT_IN_CURRENCY_SCALE)
    scale = ledger.get_asset(tenant_id, code).scale
    hard = parse_positive(hard_cap, scale, field="hard_cap")
    soft = hard if soft_cap is None else parse_positive(soft_cap, scale, field="soft_cap")
    cap_amount = (
        None
        if member_cap_amount is None
        else parse_positive(member_cap_amount, scale, field="member_cap_amount")
    )
    thresholds = tuple(alert_thresholds)
    chosen = check_policy(hard, soft, thresholds, period, rollover, cap_amount, member_cap_count)
    policy = BudgetPolicy(
        tenant_id=tenant_id,
        id=budget_id,
        name=display_name(name if name is not None else budget_id),
        currency=code,
        scale=scale,
        hard_cap_minor=hard,
        soft_cap_minor=soft,
        thresholds_percent=thresholds,
        period=chosen,
        rollover=rollover,
        member_cap_amount_minor=cap_amount,
        member_cap_count=member_cap_count,
        created_at=ledger.clock(),
    )
    store = _store(ledger)

    def use_case(work: UnitOfWork) -> BudgetPolicy:
        found = store.lock_budget(work.unit, tenant_id, budget_id)
        if found is not None:
            existing = found[0]
            differing = [
                name
                for name in (
                    "name",
                    "currency",
                    "hard_cap_minor",
                    "soft_cap_minor",
                    "thresholds_percent",
                    "period",
                    "rollover",
                    "member_cap_amount_minor",
                    "member_cap_count",
                )
                if getattr(existing, name) != getattr(policy, name)
            ]
            if differing:
                raise AlreadyExists("budget", budget_id, differing)
            return existing
        store.insert_budget(work.unit, replace_created(policy, work.now))
        work.event("budget.created", budget_id, {"currency": code})
        return replace_created(policy, work.now)

    return ledger.run(tenant_id, use_case)


def replace_created(policy: BudgetPolicy, now: datetime) -> BudgetPolicy:
    return replace(policy, created_at=now)


def get_budget(ledger: Ledger, tenant_id: str, budget_id: str) -> BudgetPolicy:
    ledger.get_tenant(tenant_id)
    policy = _store(ledger).get_budget(tenant_id, check_budget_id(budget_id))
    if policy is None:
        raise NotFound("budget", budget_id)
    return policy


def list_budgets(
    ledger: Ledger, tenant_id: str, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT
) -> list[BudgetPolicy]:
    ledger.get_tenant(tenant_id)
    _check_limit(limit)
    return _store(ledger).list_budgets(tenant_id, after, limit)


def _check_limit(limit: object) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"limit must be from 1 to {PAGE_SIZE_MAX}.", field="limit")
    return limit


# Periods -------------------------------------------------------------------------------------


def _lock(store: BudgetStore, work: UnitOfWork, budget_id: str) -> BudgetPolicy:
    found = store.lock_budget(work.unit, work.tenant_id, check_budget_id(budget_id))
    if found is None:
        raise NotFound("budget", budget_id)
    return found[0]


def _current_period(store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy) -> PeriodRecord:
    """The period ``work.now`` falls in, opened now if it was not (with its rollover).

    Runs under the budget's row lock, so a period is opened once, whoever gets there first.
    """
    key = period_key(policy.period, work.now, work.tenant.zone)
    found = store.get_period(work.unit, work.tenant_id, policy.id, key)
    if found is not None:
        return found
    tenant = work.tenant_id
    for account, no_negative in (
        (funding_account(policy.currency), False),
        (issued_account(policy.currency), False),
        (period_account(policy.id, key), True),
    ):
        if store.ensure_account(
            work.unit, tenant, account, policy.currency, no_negative=no_negative, now=work.now
        ):
            work.event("account.created", account, {"asset": policy.currency})
    store.insert_period(work.unit, tenant, policy.id, key, period_account(policy.id, key), work.now)
    store.set_current_period(work.unit, tenant, policy.id, key)
    work.event("budget.period_opened", policy.id, {"period": key})
    if policy.rollover:
        _roll_over(store, work, policy, key)
    found = store.get_period(work.unit, tenant, policy.id, key)
    assert found is not None
    return found


def _roll_over(store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy, into: str) -> int:
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
            id=_rollover_id(policy.id, record.period, record.rollovers_count + 1),
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


def _figures(
    store: BudgetStore, unit: ReadUnit | None, tenant_id: str, record: PeriodRecord
) -> Figures:
    totals = store.account_totals(unit, tenant_id, [record.account_id])
    return record.figures(*totals.get(record.account_id, (0, 0, 0)))


# Top-up --------------------------------------------------------------------------------------


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
    store = _store(ledger)

    def use_case(work: UnitOfWork) -> TopupResult:
        policy = _lock(store, work, budget_id)
        if currency != policy.currency:
            raise CurrencyMismatch(
                f"Budget {budget_id!r} is in {policy.currency}; this top-up is in {currency}.",
                budget_id=budget_id,
                expected=policy.currency,
                got=currency,
            )
        minor = parse_positive(amount, policy.scale)
        transfer_id = _fund_id(policy.id, idempotency_key)
        existing = store.journal_row(work.unit, work.tenant_id, transfer_id)
        if existing is not None:
            if existing.amount_minor != minor:
                raise IdempotencyConflict(idempotency_key, ["amount"])
            return TopupResult(
                policy.id,
                existing.credit_account_id.rsplit(":", 1)[-1],
                transfer_id,
                policy.amount(minor),
                policy.currency,
                replayed=True,
            )
        record = _current_period(store, work, policy)
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


# Reserve, charge, release --------------------------------------------------------------------


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
    if timeout_seconds is not None and (
        not isinstance(timeout_seconds, int)
        or isinstance(timeout_seconds, bool)
        or not 1 <= timeout_seconds <= PENDING_TIMEOUT_SECONDS_MAX
    ):
        raise ValidationError(
            f"timeout_seconds must be a whole number from 1 to {PENDING_TIMEOUT_SECONDS_MAX}.",
            field="timeout_seconds",
        )
    store = _store(ledger)

    def use_case(work: UnitOfWork) -> ReservationView:
        policy = _lock(store, work, budget_id)
        minor = parse_positive(amount, policy.scale)
        tenant = work.tenant_id
        existing = store.get_reservation(work.unit, tenant, policy.id, reference)
        if existing is not None:
            differing = [
                name
                for name, same in (
                    ("amount", existing.amount_minor == minor),
                    ("currency", currency == policy.currency),
                    ("member_key", existing.member_key == member_key),
                )
                if not same
            ]
            if differing:
                raise IdempotencyConflict(reference, differing)
            resolution = store.resolution(work.unit, tenant, existing.transfer_id)
            return _reservation_view(policy, existing, resolution, replayed=True)
        record = _current_period(store, work, policy)
        figures = _figures(store, work.unit, tenant, record)
        member = None
        if member_key is not None and (
            policy.member_cap_amount_minor is not None or policy.member_cap_count is not None
        ):
            member = MemberUsage(
                *store.member_usage(work.unit, tenant, policy.id, record.period, member_key)
            )
        refusal = check_reserve(policy, figures, minor, currency, member)
        if refusal is not None:
            details = alert_payload(policy, figures.used, minor) | {"reference": reference}
            # Roll back everything this unit did (a period it opened, a rollover): the alert
            # is written in a unit of its own.
            raise _Refused(refusal, record.period, rejection_alert(reference, refusal), details)
        transfer_id = _reserve_id(policy.id, reference)
        request = TransferRequest(
            id=transfer_id,
            debit_account_id=record.account_id,
            credit_account_id=issued_account(policy.currency),
            asset=policy.currency,
            amount=policy.amount(minor),
            kind=KIND_RESERVE,
            pending=True,
            timeout_seconds=timeout_seconds,
            metadata={"budget_id": policy.id, "period": record.period, "reference": reference},
        )
        transfer = raise_for_single(work.submit([request])[0])
        reservation = ReservationRecord(
            tenant_id=tenant,
            budget_id=policy.id,
            reference=reference,
            transfer_id=transfer_id,
            period=record.period,
            member_key=member_key,
            amount_minor=minor,
            expires_at=transfer.expires_at,
            created_at=work.now,
        )
        store.insert_reservation(work.unit, reservation)
        store.add_to_period(work.unit, tenant, policy.id, record.period, reserved_total_minor=minor)
        used_after = figures.used + minor
        for due in alerts_due(policy, used_after):
            details = alert_payload(policy, used_after, minor) | {"reference": reference}
            if store.insert_alert_if_absent(
                work.unit, tenant, policy.id, record.period, due, details, work.now
            ):
                work.event("budget.alert", policy.id, {"kind": due.kind, **details})
        work.event("budget.reserved", policy.id, {"reference": reference})
        return _reservation_view(policy, reservation, None)

    try:
        return ledger.run(tenant_id, use_case)
    except _Refused as refused:

        def alert(work: UnitOfWork, signal: _Refused = refused) -> None:
            _lock(store, work, budget_id)
            if store.insert_alert_if_absent(
                work.unit,
                work.tenant_id,
                budget_id,
                signal.period,
                signal.alert,
                signal.details,
                work.now,
            ):
                work.event("budget.alert", budget_id, {"kind": signal.alert.kind, **signal.details})

        ledger.run(tenant_id, alert)
        raise refused.rejection from None


class _Refused(Exception):
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


def _reservation_for(
    store: BudgetStore, work: UnitOfWork, policy: BudgetPolicy, reference: str
) -> ReservationRecord:
    found = store.get_reservation(work.unit, work.tenant_id, policy.id, reference)
    if found is None:
        raise NotFound("reservation", reference)
    return found


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
    store = _store(ledger)

    def use_case(work: UnitOfWork) -> ReservationView:
        policy = _lock(store, work, budget_id)
        minor = None if amount is None else parse_positive(amount, policy.scale)
        record = _reservation_for(store, work, policy, reference)
        charge_id = None if idempotency_key is None else _charge_id(policy.id, idempotency_key)
        resolution = store.resolution(work.unit, work.tenant_id, record.transfer_id)
        if resolution is not None:
            if resolution.phase == "post":
                if charge_id is not None and resolution.transfer_id == charge_id:
                    if minor is not None and minor != resolution.amount_minor:
                        raise IdempotencyConflict(idempotency_key or "", ["amount"])
                    return _reservation_view(policy, record, resolution, replayed=True)
                raise AlreadyCharged(
                    f"Reservation {reference!r} was charged already "
                    f"({policy.amount(resolution.amount_minor)}, by {resolution.transfer_id}).",
                    budget_id=policy.id,
                    reference=reference,
                    resolved_by=resolution.transfer_id,
                )
            raise _released(reference, resolution)
        op = PostPending(
            record.transfer_id,
            id=charge_id,
            amount=None if minor is None else policy.amount(minor),
            metadata={"budget_id": policy.id, "reference": reference},
        )
        posted = raise_for_single(work.submit([op])[0])
        work.event("budget.charged", policy.id, {"reference": reference})
        return _reservation_view(policy, record, Resolution(posted.id, "post", posted.amount_minor))

    return ledger.run(tenant_id, use_case)


def _released(reference: str, resolution: Resolution) -> NotPending:
    state = _STATE_BY_PHASE[resolution.phase]
    return NotPending(
        f"Reservation {reference!r} was {state} (by {resolution.transfer_id}); it holds "
        "nothing to charge. Reserve again with a new reference.",
        reference=reference,
        resolved_by=resolution.transfer_id,
    )


def release(ledger: Ledger, tenant_id: str, budget_id: str, reference: str) -> ReservationView:
    """Release (void) the reservation: its amount returns to available. Releasing a released
    or expired one returns it unchanged (``replayed``); a charged one is ``already_charged``."""
    check_reference(reference)
    store = _store(ledger)

    def use_case(work: UnitOfWork) -> ReservationView:
        policy = _lock(store, work, budget_id)
        record = _reservation_for(store, work, policy, reference)
        resolution = store.resolution(work.unit, work.tenant_id, record.transfer_id)
        if resolution is not None:
            if resolution.phase == "post":
                raise AlreadyCharged(
                    f"Reservation {reference!r} was charged; a charge cannot be released. "
                    "Correct it with a correction if it was wrong.",
                    budget_id=policy.id,
                    reference=reference,
                    resolved_by=resolution.transfer_id,
                )
            return _reservation_view(policy, record, resolution, replayed=True)
        op = VoidPending(record.transfer_id, metadata={"budget_id": policy.id})
        voided = raise_for_single(work.submit([op])[0])
        work.event("budget.released", policy.id, {"reference": reference})
        return _reservation_view(policy, record, Resolution(voided.id, "void", voided.amount_minor))

    return ledger.run(tenant_id, use_case)


def get_reservation(
    ledger: Ledger, tenant_id: str, budget_id: str, reference: str
) -> ReservationView:
    policy = get_budget(ledger, tenant_id, budget_id)
    store = _store(ledger)
    record = store.get_reservation(None, tenant_id, policy.id, check_reference(reference))
    if record is None:
        raise NotFound("reservation", reference)
    transfer = ledger.get_transfer(tenant_id, record.transfer_id)
    resolution = None
    if transfer.resolved_by is not None:
        resolved = ledger.get_transfer(tenant_id, transfer.resolved_by)
        resolution = Resolution(resolved.id, resolved.phase.value, resolved.amount_minor)
    return _reservation_view(policy, record, resolution)


# Corrections ---------------------------------------------------------------------------------


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
    if not isinstance(note, str) or not note.strip() or len(note) > BUDGET_NOTE_LENGTH_MAX:
        raise ValidationError(
            f"note is mandatory: 1 to {BUDGET_NOTE_LENGTH_MAX} characters saying why.",
            field="note",
        )
    check_storable(note, "note")
    display_name(actor, "actor")
    store = _store(ledger)

    def use_case(work: UnitOfWork) -> CorrectionView:
        policy = _lock(store, work, budget_id)
        tenant = work.tenant_id
        minor = None if amount is None else parse_positive(amount, policy.scale)
        transfer_id = _correction_id(policy.id, idempotency_key)
        done = store.journal_row(work.unit, tenant, transfer_id)
        if done is not None:
            previous = [
                c for c in store.corrections(tenant, policy.id) if c.transfer_id == transfer_id
            ]
            if (
                not previous
                or previous[0].reverses_id != reverses
                or (minor is not None and minor != previous[0].amount_minor)
            ):
                raise IdempotencyConflict(idempotency_key, ["reverses", "amount"])
            return _correction_view(policy, previous[0], replayed=True)
        target = store.journal_row(work.unit, tenant, reverses)
        periods = {p.account_id: p for p in store.periods(work.unit, tenant, policy.id)}
        if target is None or target.refused:
            raise NotFound("transfer", reverses)
        kind = entry_type(target.phase, target.kind)
        if kind == KIND_FUND and target.credit_account_id in periods:
            period = periods[target.credit_account_id]
            debit, credit = period.account_id, funding_account(policy.currency)
            counter = "reversed_funds_minor"
        elif kind == "charge" and target.debit_account_id in periods:
            period = periods[target.debit_account_id]
            debit, credit = issued_account(policy.currency), period.account_id
            counter = "reversed_charges_minor"
        else:
            raise ValidationError(
                f"{reverses!r} is not a top-up or a charge of budget {policy.id!r}; only those "
                "can be corrected.",
                field="reverses",
            )
        left = target.amount_minor - store.corrected_amount(work.unit, tenant, reverses)
        chosen = left if minor is None else minor
        if chosen <= 0 or chosen > left:
            raise ValidationError(
                f"{reverses!r} has {policy.amount(max(left, 0))} left to reverse; a correction "
                "cannot reverse more than the transfer moved.",
                field="amount",
            )
        request = TransferRequest(
            id=transfer_id,
            debit_account_id=debit,
            credit_account_id=credit,
            asset=policy.currency,
            amount=policy.amount(chosen),
            kind=KIND_REVERSE,
            metadata={"budget_id": policy.id, "reverses": reverses, "note": note, "actor": actor},
        )
        raise_for_single(work.submit([request])[0])
        store.add_to_period(work.unit, tenant, policy.id, period.period, **{counter: chosen})
        correction = CorrectionRecord(
            tenant_id=tenant,
            transfer_id=transfer_id,
            budget_id=policy.id,
            period=period.period,
            reverses_id=reverses,
            amount_minor=chosen,
            note=note,
            actor=actor,
            created_at=work.now,
        )
        store.insert_correction(work.unit, correction)
        work.event("budget.corrected", policy.id, {"transfer_id": transfer_id, "actor": actor})
        return _correction_view(policy, correction)

    return ledger.run(tenant_id, use_case)


def _correction_view(
    policy: BudgetPolicy, record: CorrectionRecord, *, replayed: bool = False
) -> CorrectionView:
    return CorrectionView(
        budget_id=record.budget_id,
        transfer_id=record.transfer_id,
        period=record.period,
        reverses_id=record.reverses_id,
        amount=policy.amount(record.amount_minor),
        note=record.note,
        actor=record.actor,
        created_at=record.created_at,
        replayed=replayed,
    )


def corrections(ledger: Ledger, tenant_id: str, budget_id: str) -> list[CorrectionView]:
    """The audit trail of a budget's corrections, oldest first."""
    policy = get_budget(ledger, tenant_id, budget_id)
    return [_correction_view(policy, c) for c in _store(ledger).corrections(tenant_id, policy.id)]


# Utilization and alerts ----------------------------------------------------------------------


def utilization(
    ledger: Ledger, tenant_id: str, budget_id: str, *, period: str | None = None
) -> Utilization:
    """The figures of the current period (or of ``period``, such as "2026-03")."""
    policy = get_budget(ledger, tenant_id, budget_id)
    tenant = ledger.get_tenant(tenant_id)
    key = period if period is not None else period_key(policy.period, ledger.clock(), tenant.zone)
    store = _store(ledger)
    with store.snapshot(tenant_id) as snapshot:
        record = store.get_period(snapshot, tenant_id, policy.id, key)
        if record is None:
            return _utilization(policy, key, Figures(0, 0, 0, 0, 0, 0, 0, 0))
        return _utilization(policy, key, _figures(store, snapshot, tenant_id, record))


@dataclass(frozen=True, slots=True)
class AlertView:
    budget_id: str
    period: str
    kind: str
    level: str
    threshold_percent: int | None
    details: Mapping[str, Any]
    created_at: datetime


def alerts(
    ledger: Ledger,
    tenant_id: str,
    *,
    budget_id: str | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
) -> list[AlertView]:
    """The tenant's budget alerts, newest first."""
    ledger.get_tenant(tenant_id)
    _check_limit(limit)
    if budget_id is not None:
        check_budget_id(budget_id)
    return [
        AlertView(
            a.budget_id, a.period, a.kind, a.level, a.threshold_percent, a.details, a.created_at
        )
        for a in _store(ledger).alerts(tenant_id, budget_id, limit)
    ]


# Due jobs ------------------------------------------------------------------------------------


def run_due(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    """Open each budget's current period (the reset: usage starts at zero) and, with rollover,
    move what earlier periods still have available into it. Expired reservations are released
    by the core's "holds" step, which runs before this one. Safe twice and concurrently: each
    budget is done under its row lock, and ids are derived."""
    store = _store(ledger)
    opened = rolled = 0
    after: str | None = None
    while True:
        page = store.list_budgets(tenant_id, after, PAGE_SIZE_MAX)
        for listed in page:

            def use_case(work: UnitOfWork, budget: str = listed.id) -> tuple[int, int]:
                policy = _lock(store, work, budget)
                key = period_key(policy.period, work.now, work.tenant.zone)
                new = store.get_period(work.unit, work.tenant_id, policy.id, key) is None
                before = _rollovers(store, work, policy)
                _current_period(store, work, policy)
                if policy.rollover:
                    _roll_over(store, work, policy, key)
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


# Reconciliation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Discrepancy:
    period: str
    figure: str
    materialized: str
    journal: str


@dataclass(frozen=True, slots=True)
class BudgetReconciliation:
    budget_id: str
    currency: str
    periods_checked: int
    totals: dict[str, str]  # entry type -> amount, from the journal
    counts: dict[str, int]  # entry type -> journal rows
    discrepancies: list[Discrepancy]

    @property
    def clean(self) -> bool:
        return not self.discrepancies


def reconcile(ledger: Ledger, tenant_id: str, budget_id: str) -> BudgetReconciliation:
    """Check every period's materialized figures against the journal, and the hard cap."""
    policy = get_budget(ledger, tenant_id, budget_id)
    store = _store(ledger)
    with store.snapshot(tenant_id) as snapshot:
        return _reconcile(store, snapshot, policy)


def _reconcile(
    store: BudgetStore, snapshot: ReadUnit, policy: BudgetPolicy
) -> BudgetReconciliation:
    tenant_id = policy.tenant_id
    records = store.periods(snapshot, tenant_id, policy.id)
    accounts = store.account_totals(snapshot, tenant_id, [r.account_id for r in records])
    totals = {name: 0 for name in ENTRY_TYPES}
    counts = {name: 0 for name in ENTRY_TYPES}
    found: list[Discrepancy] = []
    for record in records:
        journal = store.kind_totals(snapshot, tenant_id, record.account_id)
        open_pending = store.open_pending_total(snapshot, tenant_id, record.account_id)
        credits_posted, debits_posted, debits_pending = accounts.get(record.account_id, (0, 0, 0))
        expected = {
            "credits_posted": (
                credits_posted,
                journal.amount("fund")
                + journal.amount("rollover_in")
                + journal.amount("reverse_in"),
            ),
            "debits_posted": (
                debits_posted,
                journal.amount("charge")
                + journal.amount("rollover_out")
                + journal.amount("reverse_out"),
            ),
            "reserved": (debits_pending, open_pending),
            "funded": (record.funded, journal.amount("fund")),
            "rolled_in": (record.rolled_in, journal.amount("rollover_in")),
            "rolled_out": (record.rolled_out, journal.amount("rollover_out")),
            "reversed_funds": (record.reversed_funds, journal.amount("reverse_out")),
            "reversed_charges": (record.reversed_charges, journal.amount("reverse_in")),
            "reserved_total": (record.reserved_total, journal.amount("reserve")),
            "reservations": (
                store.reservations_total(snapshot, tenant_id, policy.id, record.period),
                journal.amount("reserve"),
            ),
        }
        for figure, (materialized, from_journal) in expected.items():
            if materialized != from_journal:
                found.append(
                    Discrepancy(
                        record.period,
                        figure,
                        policy.amount(materialized),
                        policy.amount(from_journal),
                    )
                )
        used = record.figures(credits_posted, debits_posted, debits_pending).used
        if used > policy.hard_cap_minor:
            found.append(
                Discrepancy(
                    record.period,
                    "used_above_hard_cap",
                    policy.amount(used),
                    policy.amount(policy.hard_cap_minor),
                )
            )
        for name, (count, amount_minor) in journal.totals.items():
            base = name.removesuffix("_in").removesuffix("_out")
            if name.endswith("_in") and base == KIND_ROLLOVER:
                continue  # a rollover is counted once, where it leaves
            totals[base] += amount_minor
            counts[base] += count
    return BudgetReconciliation(
        budget_id=policy.id,
        currency=policy.currency,
        periods_checked=len(records),
        totals={name: policy.amount(value) for name, value in totals.items()},
        counts=counts,
        discrepancies=found,
    )


@dataclass(frozen=True, slots=True)
class TenantReconciliation:
    tenant_id: str
    budgets_checked: int
    budgets_clean: int
    discrepancies_count: int
    budgets: list[BudgetReconciliation] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.discrepancies_count == 0


def _all_budgets(ledger: Ledger, tenant_id: str) -> list[BudgetPolicy]:
    ledger.get_tenant(tenant_id)
    return _store(ledger).list_budgets(tenant_id, None, BUDGETS_PER_TENANT_REPORT_MAX)


def reconcile_tenant(ledger: Ledger, tenant_id: str) -> TenantReconciliation:
    """Reconcile every budget of the tenant (at most BUDGETS_PER_TENANT_REPORT_MAX)."""
    results = [reconcile(ledger, tenant_id, b.id) for b in _all_budgets(ledger, tenant_id)]
    return TenantReconciliation(
        tenant_id=tenant_id,
        budgets_checked=len(results),
        budgets_clean=sum(1 for r in results if r.clean),
        discrepancies_count=sum(len(r.discrepancies) for r in results),
        budgets=results,
    )


# Reports -------------------------------------------------------------------------------------

RANGES = ("today", "week", "month", "quarter", "year")


def report_window(
    range_name: str | None,
    date_from: str | None,
    date_to: str | None,
    now: datetime,
    zone: Any,
) -> tuple[datetime, datetime]:
    """[start, end) of a report, on the tenant's calendar. ``date_from``/``date_to`` are
    dates (YYYY-MM-DD), both included; otherwise ``range_name`` (default month) is the
    current day, ISO week, month, quarter or year."""
    if date_from is not None or date_to is not None:
        if date_from is None or date_to is None:
            raise ValidationError("from and to go together; send both dates.", field="from")
        first, last = _date(date_from, "from"), _date(date_to, "to")
        if last < first:
            raise ValidationError("to is before from.", field="to")
        return _local_start(first, zone), _local_start(last + timedelta(days=1), zone)
    chosen = range_name or "month"
    if chosen not in RANGES:
        raise ValidationError(f"range must be one of {', '.join(RANGES)}.", field="range")
    today = now.astimezone(zone).date()
    if chosen == "today":
        start, end = today, today + timedelta(days=1)
    elif chosen == "week":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
    elif chosen == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    elif chosen == "quarter":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        end = (start + timedelta(days=95)).replace(day=1)
    else:
        start, end = date(today.year, 1, 1), date(today.year + 1, 1, 1)
    return _local_start(start, zone), _local_start(end, zone)


def _date(text: object, field_name: str) -> date:
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field_name} must be a date such as 2026-03-31.", field=field_name
        ) from None


def _local_start(day: date, zone: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True, slots=True)
class BudgetReport:
    budget_id: str
    name: str
    currency: str
    window_start: datetime
    window_end: datetime
    totals: dict[str, str]
    issuance_count: int
    redemption_count: int
    utilization: Utilization


def report(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    range_name: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> BudgetReport:
    """Totals by entry type within the window (by effective time), issuance (reserve) and
    redemption (charge) counts, and the current utilization."""
    policy = get_budget(ledger, tenant_id, budget_id)
    tenant = ledger.get_tenant(tenant_id)
    start, end = report_window(range_name, date_from, date_to, ledger.clock(), tenant.zone)
    return _report(ledger, policy, start, end)


def _report(ledger: Ledger, policy: BudgetPolicy, start: datetime, end: datetime) -> BudgetReport:
    store = _store(ledger)
    totals = {name: 0 for name in ENTRY_TYPES}
    issuances = redemptions = 0
    for record in store.periods(None, policy.tenant_id, policy.id):
        journal = store.kind_totals(None, policy.tenant_id, record.account_id, start, end)
        for name, (_, amount_minor) in journal.totals.items():
            if name == "rollover_in":
                continue
            totals[name.removesuffix("_in").removesuffix("_out")] += amount_minor
        issuances += journal.count("reserve")
        redemptions += journal.count("charge")
    return BudgetReport(
        budget_id=policy.id,
        name=policy.name,
        currency=policy.currency,
        window_start=start,
        window_end=end,
        totals={name: policy.amount(value) for name, value in totals.items()},
        issuance_count=issuances,
        redemption_count=redemptions,
        utilization=utilization(ledger, policy.tenant_id, policy.id),
    )


def tenant_report(
    ledger: Ledger,
    tenant_id: str,
    *,
    range_name: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> list[BudgetReport]:
    tenant = ledger.get_tenant(tenant_id)
    start, end = report_window(range_name, date_from, date_to, ledger.clock(), tenant.zone)
    return [_report(ledger, policy, start, end) for policy in _all_budgets(ledger, tenant_id)]


CSV_COLUMNS = (
    "budget_id",
    "name",
    "currency",
    "from",
    "to",
    *(f"total_{name}" for name in ENTRY_TYPES),
    "issuance_count",
    "redemption_count",
    "period",
    "used",
    "remaining",
    "utilization_percent",
)


def reports_csv(reports: Sequence[BudgetReport]) -> str:
    """The reports as CSV, one row per budget, amounts as decimal strings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        writer.writerow(
            [
                r.budget_id,
                r.name,
                r.currency,
                r.window_start.isoformat(),
                r.window_end.isoformat(),
                *(r.totals[name] for name in ENTRY_TYPES),
                r.issuance_count,
                r.redemption_count,
                r.utilization.period,
                r.utilization.used,
                r.utilization.remaining,
                r.utilization.utilization_percent,
            ]
        )
    return out.getvalue()


# Ledger entries of a budget ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetEntry:
    transfer_id: str
    entry_type: str
    amount: str
    period: str
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    effective_at: datetime
    created_at: datetime
    metadata: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EntriesPage:
    budget_id: str
    entries: list[BudgetEntry]
    next_cursor: str | None


def entries(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    limit: int = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> EntriesPage:
    """The budget's journal entries, oldest first, a page at a time (keyset pagination: pass
    ``next_cursor`` back as ``cursor``)."""
    policy = get_budget(ledger, tenant_id, budget_id)
    _check_limit(limit)
    after = None if cursor is None else _decode_cursor(cursor)
    store = _store(ledger)
    by_account = {p.account_id: p.period for p in store.periods(None, tenant_id, policy.id)}
    if not by_account:
        return EntriesPage(policy.id, [], None)
    rows = store.entries(tenant_id, list(by_account), after, limit)
    page = [
        BudgetEntry(
            transfer_id=row.transfer_id,
            entry_type=entry_type(row.phase, row.kind),
            amount=policy.amount(row.amount_minor),
            period=by_account.get(row.debit_account_id)
            or by_account.get(row.credit_account_id, ""),
            debit_account_id=row.debit_account_id,
            credit_account_id=row.credit_account_id,
            pending_id=row.pending_id,
            effective_at=row.effective_at,
            created_at=row.created_at,
            metadata=row.metadata,
        )
        for row in rows
    ]
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = _encode_cursor(last.created_at, last.transfer_id)
    return EntriesPage(policy.id, page, next_cursor)


def _encode_cursor(created_at: datetime, transfer_id: str) -> str:
    raw = f"{created_at.isoformat()}|{transfer_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: object) -> tuple[datetime, str]:
    invalid = ValidationError(
        "cursor is not valid; pass the next_cursor of the previous page.", field="cursor"
    )
    if not isinstance(cursor, str) or not 1 <= len(cursor) <= 400 or not cursor.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        instant, transfer_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(instant)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid from None
    if parsed.tzinfo is None:
        raise invalid
    return parsed, transfer_id
