"""A budget's definition and the names built from it.

Owns: what a budget is (currency, hard cap, soft cap, alert thresholds, period, rollover,
per-member caps), the checks of a definition and of the caller's references, how a period is
named in the tenant's time zone, and the account and transfer ids of a budget. An id never
contains ":", so the ids built from it (``budget:<id>:<period>``) cannot collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    AMOUNT_MINOR_MAX,
    BUDGET_ID_LENGTH_MAX,
    BUDGET_NOTE_LENGTH_MAX,
    BUDGET_REFERENCE_LENGTH_MAX,
    BUDGET_THRESHOLDS_MAX,
)
from rewardledger.domain.money import format_minor
from rewardledger.domain.validation import check_timeout, whole_number

DEFAULT_THRESHOLDS_PERCENT = (80, 95)
# Seed 002: "Configurable alert thresholds (80% soft, 95% hard)".
DEFAULT_SOFT_CAP_PERCENT = 80
# Currencies every tenant may budget in without declaring the asset first (scale 2).
BUILT_IN_CURRENCIES = ("USD", "ZWG")
BUILT_IN_CURRENCY_SCALE = 2

# Kinds of the journal rows budgets write; a finance team's "entry types".
KIND_FUND = "fund"
KIND_RESERVE = "reserve"
KIND_REVERSE = "reverse"
KIND_ROLLOVER = "rollover"
ENTRY_TYPES = ("fund", "reserve", "charge", "release", "reverse", "rollover")

# A budget id never contains ":" so that the account and transfer ids built from it
# ("budget:<id>:<period>") cannot collide; a reference may (it is always the tail).
_BUDGET_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{BUDGET_ID_LENGTH_MAX - 1}}}")
_REFERENCE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:@-]{{0,{BUDGET_REFERENCE_LENGTH_MAX - 1}}}")


class BudgetPeriod(StrEnum):
    ROLLING = "rolling"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class BudgetFunding(StrEnum):
    """Where a reserve's money comes from. ``prefunded``: the period's top-ups (a reserve
    above available is ``insufficient_funds``). ``on_demand``: capped but not pre-funded, as
    the seeds' budgets are: a reserve draws what available lacks from the tenant's funding
    account (a visible ``fund`` entry), so only the hard cap refuses it (the seed's
    ``ErrInsufficientFunds`` is that hard-cap refusal)."""

    PREFUNDED = "prefunded"
    ON_DEMAND = "on_demand"


# A period opened by an on-demand reset is named "<calendar period>.r<n>" ("2026-03.r1").
RESET_MARK = ".r"


class AlertLevel(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


_BUDGET_ID_SHAPE = (
    f"1 to {BUDGET_ID_LENGTH_MAX} letters, digits, '.', '_' or '-', starting with a letter "
    "or digit."
)
_REFERENCE_SHAPE = (
    f"1 to {BUDGET_REFERENCE_LENGTH_MAX} letters, digits or '.', '_', ':', '@', '-', starting "
    "with a letter or digit."
)


def budget_id(value: object, field: str = "budget_id") -> str:
    return _matching(value, _BUDGET_ID, field, f"{field} must be {_BUDGET_ID_SHAPE}")


def reference(value: object, field: str = "reference") -> str:
    """A caller's reference (issuance id, idempotency key, member key): URL-safe, bounded."""
    return _matching(value, _REFERENCE, field, f"{field} must be {_REFERENCE_SHAPE}")


def _matching(value: object, pattern: re.Pattern[str], field: str, message: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValidationError(message, field=field)
    return value


def period_key(period: BudgetPeriod, instant: datetime, zone: ZoneInfo) -> str:
    """The name of the period ``instant`` falls in, on the tenant's calendar (``zone``)."""
    assert instant.tzinfo is not None
    local = instant.astimezone(zone)
    if period is BudgetPeriod.MONTHLY:
        return f"{local.year:04d}-{local.month:02d}"
    if period is BudgetPeriod.QUARTERLY:
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    if period is BudgetPeriod.YEARLY:
        return f"{local.year:04d}"
    return "rolling"


def current_key(policy: BudgetPolicy, instant: datetime, zone: ZoneInfo) -> str:
    """The period a write at ``instant`` goes to: the calendar period (``period_key``), or the
    segment of it an on-demand reset opened last ("2026-03.r2")."""
    base = period_key(policy.period, instant, zone)
    current = policy.current_period
    if current is not None and current.startswith(base + RESET_MARK):
        return current
    return base


def reset_segment(policy: BudgetPolicy, instant: datetime, zone: ZoneInfo) -> str:
    """The period an on-demand reset at ``instant`` opens: the calendar period when it is not
    open yet (the reset the calendar would do anyway), else its next segment."""
    base = period_key(policy.period, instant, zone)
    current = policy.current_period
    if current is None or not (current == base or current.startswith(base + RESET_MARK)):
        return base
    number = 0 if current == base else int(current[len(base) + len(RESET_MARK) :])
    return f"{base}{RESET_MARK}{number + 1}"


def next_reset_at(period: BudgetPeriod, instant: datetime, zone: ZoneInfo) -> datetime | None:
    """When the calendar next starts a new period (seed 002's ``GetNextResetDate``): the first
    instant of the next month, quarter or year on the tenant's calendar; None when rolling."""
    local = instant.astimezone(zone)
    if period is BudgetPeriod.ROLLING:
        return None
    if period is BudgetPeriod.YEARLY:
        year, month = local.year + 1, 1
    else:
        step = 1 if period is BudgetPeriod.MONTHLY else 3
        first = local.month if step == 1 else (local.month - 1) // 3 * 3 + 1
        year, month = local.year + (first + step - 1) // 12, (first + step - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=zone)


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """A budget's definition. Amounts in minor units of ``currency`` (scale ``scale``)."""

    tenant_id: str
    id: str
    name: str
    currency: str
    scale: int
    hard_cap_minor: int
    soft_cap_minor: int
    thresholds_percent: tuple[int, ...]
    period: BudgetPeriod
    rollover: bool
    member_cap_amount_minor: int | None
    member_cap_count: int | None
    created_at: datetime
    funding: BudgetFunding = BudgetFunding.PREFUNDED
    # The period its last write opened (state, not definition: not in POLICY_FIELDS).
    current_period: str | None = None

    def amount(self, minor: int) -> str:
        return format_minor(minor, self.scale)


def default_soft_cap(hard_cap_minor: int) -> int:
    """The soft cap of a budget created without one: 80 % of the hard cap, rounded down (at
    least one minor unit). With whole minor units, ``used > floor(0.8 * cap)`` is exactly the
    seed's ``balance > 0.8 * cap``."""
    return max(1, hard_cap_minor * DEFAULT_SOFT_CAP_PERCENT // 100)


def check_funding(value: object) -> BudgetFunding:
    try:
        return BudgetFunding(str(value))
    except ValueError:
        raise ValidationError(
            "funding must be prefunded (reserves need a top-up first) or on_demand (capped but "
            "not pre-funded: reserves draw from the tenant's funding account).",
            field="funding",
        ) from None


def check_policy(
    hard_cap_minor: int,
    soft_cap_minor: int,
    thresholds_percent: tuple[int, ...],
    period: object,
    rollover: object,
    member_cap_amount_minor: int | None,
    member_cap_count: int | None,
) -> BudgetPeriod:
    """Refuse a budget definition that cannot work; return its period."""
    if not 0 < hard_cap_minor <= AMOUNT_MINOR_MAX:
        raise ValidationError("hard_cap must be greater than zero.", field="hard_cap")
    if not 0 < soft_cap_minor <= hard_cap_minor:
        raise ValidationError(
            "soft_cap must be greater than zero and at most the hard cap.", field="soft_cap"
        )
    if (
        not 1 <= len(thresholds_percent) <= BUDGET_THRESHOLDS_MAX
        or any(not isinstance(t, int) or isinstance(t, bool) for t in thresholds_percent)
        or any(not 1 <= t <= 100 for t in thresholds_percent)
        or len(set(thresholds_percent)) != len(thresholds_percent)
    ):
        raise ValidationError(
            f"alert_thresholds must be 1 to {BUDGET_THRESHOLDS_MAX} different whole percents "
            "from 1 to 100, such as [80, 95].",
            field="alert_thresholds",
        )
    try:
        chosen = BudgetPeriod(str(period))
    except ValueError:
        raise ValidationError(
            "period must be one of rolling, monthly, quarterly, yearly.", field="period"
        ) from None
    if not isinstance(rollover, bool):
        raise ValidationError("rollover must be true or false.", field="rollover")
    if member_cap_amount_minor is not None and member_cap_amount_minor <= 0:
        raise ValidationError(
            "member_cap_amount must be greater than zero.", field="member_cap_amount"
        )
    if member_cap_count is not None:
        whole_number(
            member_cap_count,
            1,
            AMOUNT_MINOR_MAX,
            "member_cap_count must be a whole number above zero.",
            "member_cap_count",
        )
    return chosen


# The fields two definitions of one budget must agree on (creating it again is a replay).
POLICY_FIELDS = (
    "name",
    "currency",
    "hard_cap_minor",
    "soft_cap_minor",
    "thresholds_percent",
    "period",
    "rollover",
    "member_cap_amount_minor",
    "member_cap_count",
    "funding",
)


def policy_differences(existing: BudgetPolicy, wanted: BudgetPolicy) -> list[str]:
    """The fields (``POLICY_FIELDS``, in order) where ``wanted`` differs from ``existing``."""
    return [name for name in POLICY_FIELDS if getattr(existing, name) != getattr(wanted, name)]


def timeout_seconds(value: object) -> int | None:
    """A reservation's timeout: None (never expires) or a whole number of seconds, bounded."""
    if value is None:
        return None
    return check_timeout(value)


def note(value: object) -> str:
    """A correction's note: mandatory, 1 to BUDGET_NOTE_LENGTH_MAX characters, not blank."""
    if not isinstance(value, str) or not value.strip() or len(value) > BUDGET_NOTE_LENGTH_MAX:
        raise ValidationError(
            f"note is mandatory: 1 to {BUDGET_NOTE_LENGTH_MAX} characters saying why.",
            field="note",
        )
    return value


# Account and journal ids ---------------------------------------------------------------------


def funding_account(currency: str) -> str:
    return f"budgets:funding:{currency}"


def issued_account(currency: str) -> str:
    return f"budgets:issued:{currency}"


def period_account(budget: str, period: str) -> str:
    return f"budget:{budget}:{period}"


def fund_id(budget: str, key: str) -> str:
    return f"budget:{budget}:fund:{key}"


def draw_id(budget: str, reference_text: str) -> str:
    """The fund transfer an on-demand budget's reserve ``reference_text`` draws with."""
    return f"budget:{budget}:draw:{reference_text}"


def reserve_id(budget: str, reference_text: str) -> str:
    return f"budget:{budget}:res:{reference_text}"


def charge_id(budget: str, key: str) -> str:
    return f"budget:{budget}:charge:{key}"


def correction_id(budget: str, key: str) -> str:
    return f"budget:{budget}:rev:{key}"


def rollover_id(budget: str, from_period: str, number: int) -> str:
    return f"budget:{budget}:roll:{from_period}:{number}"
