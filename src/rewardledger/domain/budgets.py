"""Campaign budgets: the policy of a budget and the pure rules of its figures.

Owns: what a budget is (currency, hard cap, soft cap, alert thresholds, period, rollover,
per-member caps), how a period is named in the tenant's time zone, what each figure means
(see docs/budgets.md), which reserve is refused and why, and which alerts a reserve raises.
Protects invariant 4 (a budget's used amount never exceeds its hard cap): ``check_reserve`` is
the rule; the service runs it under the budget's row lock, and reconciliation checks it again.

Money words, fixed once (docs/glossary.md):
    funded     top-ups put into the period (plus what rolled in, minus reversed top-ups)
    reserved   held by open reservations (pending transfers of the core)
    charged    posted from reservations (net of reversed charges)
    used       reserved + charged: what the hard cap limits
    balance    funds still in the period's account: funded - charged
    available  funds not yet spoken for: funded - used (what a reserve may still take by funds)
    remaining  min(available, hard cap - used): what the next reserve may take
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from rewardledger.domain.errors import (
    CurrencyMismatch,
    HardCapExceeded,
    InsufficientFunds,
    MemberCapExceeded,
    Rejection,
    ValidationError,
)
from rewardledger.domain.limits import (
    AMOUNT_MINOR_MAX,
    BUDGET_ID_LENGTH_MAX,
    BUDGET_REFERENCE_LENGTH_MAX,
    BUDGET_THRESHOLDS_MAX,
)
from rewardledger.domain.money import format_minor

DEFAULT_THRESHOLDS_PERCENT = (80, 95)
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


class AlertLevel(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


def budget_id(value: object, field: str = "budget_id") -> str:
    if not isinstance(value, str) or _BUDGET_ID.fullmatch(value) is None:
        raise ValidationError(
            f"{field} must be 1 to {BUDGET_ID_LENGTH_MAX} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            field=field,
        )
    return value


def reference(value: object, field: str = "reference") -> str:
    """A caller's reference (issuance id, idempotency key, member key): URL-safe, bounded."""
    if not isinstance(value, str) or _REFERENCE.fullmatch(value) is None:
        raise ValidationError(
            f"{field} must be 1 to {BUDGET_REFERENCE_LENGTH_MAX} letters, digits or "
            "'.', '_', ':', '@', '-', starting with a letter or digit.",
            field=field,
        )
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

    def amount(self, minor: int) -> str:
        return format_minor(minor, self.scale)


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
    if member_cap_count is not None and (
        not isinstance(member_cap_count, int)
        or isinstance(member_cap_count, bool)
        or not 1 <= member_cap_count <= AMOUNT_MINOR_MAX
    ):
        raise ValidationError(
            "member_cap_count must be a whole number above zero.", field="member_cap_count"
        )
    return chosen


@dataclass(frozen=True, slots=True)
class Figures:
    """One period's money, in minor units. The stored parts come from the period's account
    totals (reserved, the gross posts) and the budget's own counters (funded, rollovers,
    reversals); the rest is derived here, once."""

    funded: int
    rolled_in: int
    rolled_out: int
    reversed_funds: int
    reversed_charges: int
    reserved: int
    charged: int
    released: int

    @property
    def used(self) -> int:
        return self.reserved + self.charged

    @property
    def funds_in(self) -> int:
        """Everything that came into the period, net of what left it other than by charges."""
        return self.funded + self.rolled_in - self.rolled_out - self.reversed_funds

    @property
    def balance(self) -> int:
        return self.funds_in - self.charged

    @property
    def available(self) -> int:
        return self.funds_in - self.used


def figures_from_account(
    credits_posted: int,
    debits_posted: int,
    debits_pending: int,
    *,
    funded: int,
    rolled_in: int,
    rolled_out: int,
    reversed_funds: int,
    reversed_charges: int,
    reserved_total: int,
) -> Figures:
    """The period's figures from its account's totals and the budget's counters.

    credits_posted = funded + rolled_in + reversed_charges; debits_posted = charges (gross) +
    rolled_out + reversed_funds; debits_pending = open reservations. ``reserved_total`` is
    every amount ever reserved in the period, so released = reserved_total - open - charges.
    """
    del credits_posted  # equal to the counters' sum; reconciliation checks it
    charged_gross = debits_posted - rolled_out - reversed_funds
    return Figures(
        funded=funded,
        rolled_in=rolled_in,
        rolled_out=rolled_out,
        reversed_funds=reversed_funds,
        reversed_charges=reversed_charges,
        reserved=debits_pending,
        charged=charged_gross - reversed_charges,
        released=reserved_total - debits_pending - charged_gross,
    )


def percent_text(part: int, whole: int) -> str:
    """``part`` as a percent of ``whole`` with two decimals, rounded down (exact integers)."""
    if whole <= 0:
        return "0.00"
    return format_minor(part * 10_000 // whole, 2)


@dataclass(frozen=True, slots=True)
class MemberUsage:
    amount_minor: int
    count: int


def check_reserve(
    policy: BudgetPolicy,
    figures: Figures,
    amount_minor: int,
    currency: str,
    member: MemberUsage | None,
) -> Rejection | None:
    """Why a reserve of ``amount_minor`` must be refused now, or None (invariant 4).

    Checked in this order: currency, hard cap, funds, member caps; the first that fails wins.
    """
    amount = policy.amount(amount_minor)
    if currency != policy.currency:
        return CurrencyMismatch(
            f"Budget {policy.id!r} is in {policy.currency}; this reserve is in {currency}.",
            budget_id=policy.id,
            expected=policy.currency,
            got=currency,
        )
    if figures.used + amount_minor > policy.hard_cap_minor:
        return HardCapExceeded(
            f"Reserving {amount} would bring budget {policy.id!r} to "
            f"{policy.amount(figures.used + amount_minor)}, above its hard cap of "
            f"{policy.amount(policy.hard_cap_minor)} for this period.",
            budget_id=policy.id,
            amount=amount,
            used=policy.amount(figures.used),
            hard_cap=policy.amount(policy.hard_cap_minor),
        )
    if amount_minor > figures.available:
        return InsufficientFunds(
            f"Budget {policy.id!r} has {policy.amount(figures.available)} available in this "
            f"period; reserving {amount} needs a top-up first.",
            budget_id=policy.id,
            amount=amount,
            available=policy.amount(figures.available),
        )
    if member is not None:
        cap_amount = policy.member_cap_amount_minor
        if cap_amount is not None and member.amount_minor + amount_minor > cap_amount:
            return MemberCapExceeded(
                f"This member has {policy.amount(member.amount_minor)} reserved in this period; "
                f"{amount} more would pass the per-member cap of {policy.amount(cap_amount)}.",
                budget_id=policy.id,
                cap="amount",
            )
        cap_count = policy.member_cap_count
        if cap_count is not None and member.count + 1 > cap_count:
            return MemberCapExceeded(
                f"This member has {member.count} reservations in this period, the most the "
                f"per-member cap allows ({cap_count}).",
                budget_id=policy.id,
                cap="count",
            )
    return None


@dataclass(frozen=True, slots=True)
class AlertDue:
    """An alert a change calls for; ``key`` makes it once per (budget, period)."""

    key: str
    kind: str
    level: AlertLevel
    threshold_percent: int | None


def alerts_due(policy: BudgetPolicy, used_after: int) -> list[AlertDue]:
    """Every alert the budget's state after a reserve calls for. Each has a key that is
    unique per period, so writing them "if absent" alerts once per threshold and period."""
    due: list[AlertDue] = []
    if used_after > policy.soft_cap_minor:
        due.append(AlertDue("soft_cap", "soft_cap_exceeded", AlertLevel.WARNING, None))
    top = max(policy.thresholds_percent)
    for threshold in sorted(policy.thresholds_percent):
        if used_after * 100 >= threshold * policy.hard_cap_minor:
            level = AlertLevel.CRITICAL if threshold == top else AlertLevel.WARNING
            due.append(AlertDue(f"threshold:{threshold}", "hard_cap_approaching", level, threshold))
    return due


def rejection_alert(reference_text: str, rejection: Rejection) -> AlertDue:
    """The alert of a refused reserve: one per refused reference (a replay adds none)."""
    return AlertDue(
        f"rejected:{reference_text}",
        f"reserve_rejected:{rejection.code}",
        AlertLevel.CRITICAL,
        None,
    )


def alert_payload(
    policy: BudgetPolicy, used_minor: int, amount_minor: int | None
) -> dict[str, Any]:
    return {
        "used": policy.amount(used_minor),
        "hard_cap": policy.amount(policy.hard_cap_minor),
        "soft_cap": policy.amount(policy.soft_cap_minor),
        "amount": None if amount_minor is None else policy.amount(amount_minor),
        "percent": percent_text(used_minor, policy.hard_cap_minor),
    }


# ---------------------------------------------------------------------------------------------
# Records that cross the storage boundary.


@dataclass(frozen=True, slots=True)
class PeriodRecord:
    """A (budget, period): its account, and the counters of what the core's account totals
    cannot tell apart (top-ups, rollovers and reversals all credit or debit it)."""

    budget_id: str
    period: str
    account_id: str
    opened_at: datetime
    funded: int
    rolled_in: int
    rolled_out: int
    reversed_funds: int
    reversed_charges: int
    reserved_total: int
    rollovers_count: int

    def figures(self, credits_posted: int, debits_posted: int, debits_pending: int) -> Figures:
        return figures_from_account(
            credits_posted,
            debits_posted,
            debits_pending,
            funded=self.funded,
            rolled_in=self.rolled_in,
            rolled_out=self.rolled_out,
            reversed_funds=self.reversed_funds,
            reversed_charges=self.reversed_charges,
            reserved_total=self.reserved_total,
        )


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    tenant_id: str
    budget_id: str
    reference: str
    transfer_id: str
    period: str
    member_key: str | None
    amount_minor: int
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a reservation's pending transfer was resolved: phase post, void or expire."""

    transfer_id: str
    phase: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class AlertRecord:
    budget_id: str
    period: str
    key: str
    kind: str
    level: str
    threshold_percent: int | None
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CorrectionRecord:
    tenant_id: str
    transfer_id: str
    budget_id: str
    period: str
    reverses_id: str
    amount_minor: int
    note: str
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EntryRecord:
    transfer_id: str
    phase: str
    kind: str
    amount_minor: int
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    effective_at: datetime
    created_at: datetime
    metadata: dict[str, Any]
    refused: bool


def entry_type(phase: str, kind: str) -> str:
    """A journal row's entry type, as a finance team names it (see ``ENTRY_TYPES``)."""
    if phase == "pending":
        return "reserve"
    if phase == "post":
        return "charge"
    if phase in ("void", "expire"):
        return "release"
    if kind in (KIND_REVERSE, KIND_ROLLOVER):
        return kind
    return KIND_FUND


@dataclass(frozen=True, slots=True)
class KindTotals:
    """One account's journal rows by entry type and direction: name -> (count, amount)."""

    totals: dict[str, tuple[int, int]]

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str, bool, int, int]]) -> KindTotals:
        totals: dict[str, tuple[int, int]] = {}
        for phase, kind, incoming, count, amount in rows:
            name = entry_type(phase, kind)
            if name in (KIND_REVERSE, KIND_ROLLOVER):
                name += "_in" if incoming else "_out"
            old_count, old_amount = totals.get(name, (0, 0))
            totals[name] = (old_count + count, old_amount + amount)
        return cls(totals)

    def amount(self, name: str) -> int:
        return self.totals.get(name, (0, 0))[1]

    def count(self, name: str) -> int:
        return self.totals.get(name, (0, 0))[0]
