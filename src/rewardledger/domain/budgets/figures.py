"""A budget period's figures, which reserve is refused and why, and which alerts it raises.

Owns: what each figure means (see docs/budgets.md) and the reserve rule. Protects invariant 4
(a budget's used amount never exceeds its hard cap): ``check_reserve`` is the rule; the
service runs it under the budget's row lock, and reconciliation checks it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rewardledger.domain.budgets.policy import AlertLevel, BudgetFunding, BudgetPolicy
from rewardledger.domain.errors import (
    CurrencyMismatch,
    HardCapExceeded,
    InsufficientFunds,
    MemberCapExceeded,
    Rejection,
)
from rewardledger.domain.money import format_minor


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


def currency_mismatch(policy: BudgetPolicy, currency: str, operation: str) -> Rejection | None:
    """Why money in ``currency`` cannot go into or out of the budget, or None."""
    if currency == policy.currency:
        return None
    return CurrencyMismatch(
        f"Budget {policy.id!r} is in {policy.currency}; this {operation} is in {currency}.",
        budget_id=policy.id,
        expected=policy.currency,
        got=currency,
    )


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

    Checked in this order: currency, hard cap, funds (only of a prefunded budget: an
    on-demand one draws what it lacks), member caps; the first that fails wins.
    """
    amount = policy.amount(amount_minor)
    mismatch = currency_mismatch(policy, currency, "reserve")
    if mismatch is not None:
        return mismatch
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
    if amount_minor > figures.available and policy.funding is BudgetFunding.PREFUNDED:
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
    """An alert a change calls for; ``key`` makes it once per (budget, period, crossing)."""

    key: str
    kind: str
    level: AlertLevel
    threshold_percent: int | None


def alerts_due(
    policy: BudgetPolicy, used_before: int, used_after: int, crossing: int
) -> list[AlertDue]:
    """The alerts a reserve that takes used from ``used_before`` to ``used_after`` calls for:
    one per line it crosses upwards (the seed's rule: ``newBalance > SoftCap`` for the soft
    cap, ``balance >= threshold`` of the hard cap for each threshold). A reserve that stays
    above a line alerts nothing; after used falls back below it (a release, an expiry, a
    smaller charge), crossing it again alerts again. ``crossing`` tells two crossings of one
    period apart in the alert's key: the period's reserved total before this reserve, which
    grows with every reserve, so each crossing's key is new and a replayed unit's the same."""
    due: list[AlertDue] = []
    if used_before <= policy.soft_cap_minor < used_after:
        due.append(AlertDue(f"soft_cap:{crossing}", "soft_cap_exceeded", AlertLevel.WARNING, None))
    top = max(policy.thresholds_percent)
    for threshold in sorted(policy.thresholds_percent):
        line = threshold * policy.hard_cap_minor
        if used_before * 100 < line <= used_after * 100:
            level = AlertLevel.CRITICAL if threshold == top else AlertLevel.WARNING
            due.append(
                AlertDue(
                    f"threshold:{threshold}:{crossing}", "hard_cap_approaching", level, threshold
                )
            )
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
