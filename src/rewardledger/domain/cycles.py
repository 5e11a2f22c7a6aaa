"""Cashback and debt cycles: the rules that turn movements into one ledger row per cycle.

Owns: the seeds' enums (``eligibility``, ``status``, debt ``status``, movement kinds), what a
cycle tag names, when a cycle closes and when a statement is due, how much of an accrual the
cap lets through, and the column rules of ``cashback_ledger`` and ``debt_ledger``. Protects:
every cycle boundary is computed in the tenant's own time zone; a row is a pure function of
its cycle's movements (plus, for debt, the previous cycle's net debt), so a refresh and a full
rebuild give the same rows.

Cycle tags (see docs/cycles.md):
- cashback: the calendar month ("YYYY-MM") of the accrual's time in the tenant's zone;
- debt: the month in which the statement *closes*. A statement closes at the end of the
  programme's closing day (clamped to the month's last day); a movement after that moment
  belongs to the next month's statement. Closing day 31 therefore means calendar months.
"""

from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import CYCLE_GRACE_DAYS_MAX, TIME_YEAR_MAX, TIME_YEAR_MIN
from rewardledger.domain.money import format_minor
from rewardledger.domain.validation import whole_number

_TAG = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")
# The tags a request may name: months of the years TIME_YEAR_MIN..TIME_YEAR_MAX (1900..9000),
# as a regular expression for the HTTP schema. Past them a cycle's boundaries (its month end,
# its grace, its statement's due date) could fall outside the years ``datetime`` computes.
TAG_PATTERN = r"^(19[0-9]{2}|[2-8][0-9]{3}|9000)-(0[1-9]|1[0-2])$"
_ROW_ID_NAMESPACE = uuid.UUID("6f1c7f0e-4a55-4f43-9d55-2d1f0c7c5a10")


class Eligibility(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    REACHED_CAP = "reached_cap"
    PENDING = "pending"


class CycleStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DebtStatus(StrEnum):
    OPEN = "open"
    PARTIAL = "partial"
    REPAID = "repaid"
    OVERDUE = "overdue"


class CashbackKind(StrEnum):
    ACCRUAL = "accrual"
    REVERSAL = "reversal"


class DebtKind(StrEnum):
    OPENING = "opening"
    CHARGE = "charge"
    REPAYMENT = "repayment"
    DISCOUNT = "discount"


DEBT_INCREASING = frozenset({DebtKind.OPENING, DebtKind.CHARGE})


class RefreshMode(StrEnum):
    """Where a tenant's ledger rows are recomputed: in the writing transaction, or by a job."""

    INLINE = "inline"
    JOB = "job"


class LedgerName(StrEnum):
    """The two projections; also the first part of a dirty mark's key."""

    CASHBACK = "cashback"
    DEBT = "debt"


# Programmes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CashbackProgram:
    """A tenant's cashback programme; amounts in minor units of ``currency``."""

    currency: str
    minimum_spend_minor: int
    default_cap_minor: int
    grace_days: int


@dataclass(frozen=True, slots=True)
class CashbackAccountSettings:
    account_id: str
    default_cap_minor: int | None
    enrolled: bool


@dataclass(frozen=True, slots=True)
class DebtProgram:
    """A tenant's debt programme: statements close on ``closing_day`` (clamped) and are due on
    ``due_day`` of the following month (clamped); overdue ``grace_days`` after that."""

    currency: str
    closing_day: int
    due_day: int
    grace_days: int


def check_day(value: object, field: str) -> int:
    return whole_number(
        value,
        1,
        31,
        f"{field} must be a day of the month from 1 to 31 (days past a short month's "
        "end mean its last day).",
        field,
    )


def check_grace_days(value: object, field: str = "grace_days") -> int:
    return whole_number(
        value,
        0,
        CYCLE_GRACE_DAYS_MAX,
        f"{field} must be a whole number of days from 0 to {CYCLE_GRACE_DAYS_MAX}.",
        field,
    )


# Cycle tags and boundaries -------------------------------------------------------------------


def parse_tag(value: object, field: str = "cycle_tag") -> tuple[int, int]:
    """(year, month) of a ``YYYY-MM`` tag, or a ValidationError."""
    match = _TAG.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError(f'{field} must look like "2026-03" (YYYY-MM).', field=field)
    return int(match["year"]), int(match["month"])


def check_tag(value: object, field: str = "cycle_tag") -> str:
    """A tag a request names: ``YYYY-MM`` within TIME_YEAR_MIN..TIME_YEAR_MAX, or a
    ValidationError (a stored tag is always one of these, so every boundary is computable)."""
    year, _ = parse_tag(value, field)
    if not TIME_YEAR_MIN <= year <= TIME_YEAR_MAX:
        raise ValidationError(
            f'{field} must be a month from "{TIME_YEAR_MIN}-01" to "{TIME_YEAR_MAX}-12" (YYYY-MM).',
            field=field,
        )
    assert isinstance(value, str)
    return value


def make_tag(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def next_tag(tag: str) -> str:
    year, month = parse_tag(tag)
    return make_tag(year + month // 12, month % 12 + 1)


def clamped_day(year: int, month: int, day: int) -> int:
    """``day`` in that month, or the month's last day when the month is shorter."""
    return min(day, calendar.monthrange(year, month)[1])


def _local_midnight(year: int, month: int, day: int, zone: ZoneInfo) -> datetime:
    return datetime(year, month, day, tzinfo=zone)


def month_end(tag: str, zone: ZoneInfo) -> datetime:
    """The instant the calendar month ``tag`` ends in ``zone`` (next month's local midnight)."""
    year, month = parse_tag(next_tag(tag))
    return _local_midnight(year, month, 1, zone)


def cashback_cycle_closes_at(tag: str, zone: ZoneInfo, grace_days: int) -> datetime:
    """A cashback cycle is closed from the end of its month plus the grace period."""
    return month_end(tag, zone) + timedelta(days=grace_days)


def debt_cycle_tag(instant: datetime, zone: ZoneInfo, closing_day: int) -> str:
    """The tag of the statement that ``instant`` falls in: the month in which it closes."""
    assert instant.tzinfo is not None, "cycle tags need an aware instant"
    local = instant.astimezone(zone)
    if local.day <= clamped_day(local.year, local.month, closing_day):
        return make_tag(local.year, local.month)
    return next_tag(make_tag(local.year, local.month))


def statement_due_at(tag: str, zone: ZoneInfo, due_day: int) -> datetime:
    """The end (next local midnight) of ``due_day`` in the month after the statement closes."""
    year, month = parse_tag(next_tag(tag))
    day = clamped_day(year, month, due_day)
    return _local_midnight(year, month, day, zone) + timedelta(days=1)


def row_id(ledger: LedgerName, tenant_id: str, holder_id: str, tag: str) -> str:
    """A ledger row's id, derived from its key so that a rebuild gives the same id."""
    return str(uuid.uuid5(_ROW_ID_NAMESPACE, f"{ledger}/{tenant_id}/{holder_id}/{tag}"))


# Cashback ------------------------------------------------------------------------------------


def credited_minor(
    requested_minor: int, credited_so_far_minor: int, cap_minor: int, override: bool
) -> int:
    """How much of a requested accrual is credited: up to the cycle's cap, or all of it when
    the accrual is an override (which may take the remaining budget below zero)."""
    assert requested_minor > 0, requested_minor
    if override:
        return requested_minor
    headroom = max(cap_minor - credited_so_far_minor, 0)
    return min(requested_minor, headroom)


@dataclass(frozen=True, slots=True)
class CashbackTotals:
    """A cycle's movements, summed: what a ``cashback_ledger`` row is computed from."""

    total_spend_minor: int
    total_cashback_minor: int
    latest_cap_minor: int | None
    overridden: bool


@dataclass(frozen=True, slots=True)
class PairTotals:
    """A cashback pair's running totals as an accrual locked them, with what its cap depends
    on: the movement that set the cap snapshot, the programme's and the account's caps."""

    totals: CashbackTotals
    cap_occurred_at: datetime | None
    cap_movement_id: str | None
    programme_cap_minor: int
    account_cap_minor: int | None
    mode: RefreshMode

    def cap_minor(self) -> int:
        """The cycle's cap: its latest snapshot, else the account's, else the programme's."""
        if self.totals.latest_cap_minor is not None:
            return self.totals.latest_cap_minor
        if self.account_cap_minor is not None:
            return self.account_cap_minor
        return self.programme_cap_minor

    def after(self, movement: CashbackMovement) -> PairTotals:
        """The totals once ``movement`` (of this pair) is added. Its cap snapshot, if any,
        becomes the latest when it is the latest by occurrence, then id (as a rebuild ranks)."""
        totals = self.totals
        cap, cap_at, cap_id = totals.latest_cap_minor, self.cap_occurred_at, self.cap_movement_id
        if movement.budget_cap_minor is not None and (
            cap_at is None
            or cap_id is None
            or (movement.occurred_at, movement.id) > (cap_at, cap_id)
        ):
            cap, cap_at, cap_id = movement.budget_cap_minor, movement.occurred_at, movement.id
        summed = CashbackTotals(
            totals.total_spend_minor + movement.spend_minor,
            totals.total_cashback_minor + movement.cashback_minor,
            cap,
            totals.overridden or movement.override,
        )
        return replace(self, totals=summed, cap_occurred_at=cap_at, cap_movement_id=cap_id)


@dataclass(frozen=True, slots=True)
class CashbackRow:
    account_id: str
    cycle_tag: str
    total_spend_minor: int
    total_cashback_minor: int
    budget_cap_minor: int
    eligibility: Eligibility
    remaining_budget_minor: int
    status: CycleStatus
    notes: str | None


def budget_cap(
    latest_cap_minor: int | None,
    account: CashbackAccountSettings | None,
    program: CashbackProgram,
) -> int:
    """The latest cap snapshot in the cycle's movements, else the account's, else the program's."""
    if latest_cap_minor is not None:
        return latest_cap_minor
    if account is not None and account.default_cap_minor is not None:
        return account.default_cap_minor
    return program.default_cap_minor


def cashback_row(
    account_id: str,
    tag: str,
    totals: CashbackTotals,
    account: CashbackAccountSettings | None,
    program: CashbackProgram,
    zone: ZoneInfo,
    now: datetime,
    scale: int,
) -> CashbackRow:
    cap = budget_cap(totals.latest_cap_minor, account, program)
    closed = now >= cashback_cycle_closes_at(tag, zone, program.grace_days)
    status = CycleStatus.CLOSED if closed else CycleStatus.OPEN
    enrolled = account is None or account.enrolled
    if totals.total_cashback_minor >= cap:
        eligibility = Eligibility.REACHED_CAP
    elif not enrolled:
        eligibility = Eligibility.NOT_ELIGIBLE
    elif totals.total_spend_minor >= program.minimum_spend_minor:
        eligibility = Eligibility.ELIGIBLE
    elif closed:
        eligibility = Eligibility.NOT_ELIGIBLE
    else:
        eligibility = Eligibility.PENDING
    remaining = cap - totals.total_cashback_minor
    notes: list[str] = []
    if remaining < 0:
        notes.append(f"override took the cycle {format_minor(-remaining, scale)} past its cap")
    if not enrolled:
        notes.append("account not enrolled")
    return CashbackRow(
        account_id,
        tag,
        totals.total_spend_minor,
        totals.total_cashback_minor,
        cap,
        eligibility,
        remaining,
        status,
        "; ".join(notes) or None,
    )


# Debt ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DebtTotals:
    """A cycle's debt movements, summed by kind (all amounts >= 0)."""

    opening_minor: int
    has_opening: bool
    new_debt_minor: int
    repayments_minor: int
    discount_minor: int
    latest_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class DebtRow:
    person_id: str
    cycle_tag: str
    initial_debt_minor: int
    new_debt_minor: int
    repayments_minor: int
    debt_discount_minor: int
    net_debt_minor: int
    status: DebtStatus
    due_at: datetime
    notes: str | None


def debt_row(
    person_id: str,
    tag: str,
    totals: DebtTotals,
    carried_minor: int,
    program: DebtProgram,
    zone: ZoneInfo,
    now: datetime,
    scale: int,
) -> DebtRow:
    """``initial_debt`` is the cycle's opening movements when it has any, else the previous
    cycle's net debt carried forward (an overpayment carries forward as a negative amount)."""
    initial = totals.opening_minor if totals.has_opening else carried_minor
    net = initial + totals.new_debt_minor - totals.repayments_minor - totals.discount_minor
    due_at = totals.latest_due_at or statement_due_at(tag, zone, program.due_day)
    if net <= 0:
        status = DebtStatus.REPAID
    elif now >= due_at + timedelta(days=program.grace_days):
        status = DebtStatus.OVERDUE
    elif totals.repayments_minor + totals.discount_minor > 0:
        status = DebtStatus.PARTIAL
    else:
        status = DebtStatus.OPEN
    notes = f"overpaid by {format_minor(-net, scale)}" if net < 0 else None
    return DebtRow(
        person_id,
        tag,
        initial,
        totals.new_debt_minor,
        totals.repayments_minor,
        totals.discount_minor,
        net,
        status,
        # As a UTC instant: a local midnight in a DST fold (America/Havana's 2025-11-02) is
        # ambiguous, and an ambiguous time never compares equal to another zone's (PEP 495), so
        # the row would differ from its stored self on every rebuild.
        due_at.astimezone(UTC),
        notes,
    )


# Records ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CashbackMovement:
    """One accrual or reversal as stored (append-only). A reversal carries the negated spend,
    requested and credited amounts of the accrual it reverses, in that accrual's cycle."""

    id: str
    account_id: str
    cycle_tag: str
    kind: CashbackKind
    spend_minor: int
    requested_minor: int
    cashback_minor: int
    budget_cap_minor: int | None
    override: bool
    reverses_id: str | None
    transfer_id: str | None
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DebtMovement:
    id: str
    person_id: str
    cycle_tag: str
    kind: DebtKind
    amount_minor: int
    due_at: datetime | None
    transfer_id: str | None
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DirtyMark:
    """A (holder, cycle) pair whose ledger row must be recomputed, as read by a refresh."""

    ledger: LedgerName
    holder_id: str
    cycle_tag: str
    token: str


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    holder_id: str | None = None
    cycle_tag: str | None = None
    status: str | None = None
    eligibility: str | None = None
