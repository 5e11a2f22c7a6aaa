"""The pure rules of budgets: periods in the tenant's zone, figures, reserve checks, alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rewardledger.domain.budgets import (
    BudgetPeriod,
    Figures,
    MemberUsage,
    alerts_due,
    budget_id,
    check_policy,
    check_reserve,
    figures_from_account,
    percent_text,
    period_key,
)
from rewardledger.domain.errors import ValidationError
from tests.builders import budget_policy

PANAMA = ZoneInfo("America/Panama")


_policy = budget_policy


def _figures(funds: int, reserved: int = 0, charged: int = 0) -> Figures:
    return Figures(funds, 0, 0, 0, 0, reserved, charged, 0)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (BudgetPeriod.MONTHLY, "2026-03"),
        (BudgetPeriod.QUARTERLY, "2026-Q1"),
        (BudgetPeriod.YEARLY, "2026"),
        (BudgetPeriod.ROLLING, "rolling"),
    ],
)
def test_a_period_is_named_on_the_tenants_calendar(period: BudgetPeriod, expected: str) -> None:
    # 2026-04-01T03:00Z is still March 31 (and Q1) in Panama, UTC-5.
    assert period_key(period, datetime(2026, 4, 1, 3, 0, tzinfo=UTC), PANAMA) == expected


def test_the_next_instant_in_panama_starts_the_next_period() -> None:
    instant = datetime(2026, 4, 1, 5, 0, tzinfo=UTC)
    assert period_key(BudgetPeriod.QUARTERLY, instant, PANAMA) == "2026-Q2"


def test_figures_come_from_the_account_totals_and_the_counters() -> None:
    figures = figures_from_account(
        credits_posted=1_000 + 200 + 30,  # funded + rolled in + reversed charges
        debits_posted=400 + 100 + 50,  # charges + rolled out + reversed funds
        debits_pending=250,
        funded=1_000,
        rolled_in=200,
        rolled_out=100,
        reversed_funds=50,
        reversed_charges=30,
        reserved_total=900,
    )
    assert (figures.reserved, figures.charged, figures.released) == (250, 370, 250)
    assert figures.used == 620
    assert figures.funds_in == 1_050
    assert (figures.balance, figures.available) == (680, 430)


def test_a_reserve_exactly_to_the_hard_cap_passes_and_one_unit_more_fails() -> None:
    policy = _policy()
    figures = _figures(funds=2_000_000, reserved=400_000, charged=100_000)
    assert check_reserve(policy, figures, 500_000, "USD", None) is None
    refusal = check_reserve(policy, figures, 500_001, "USD", None)
    assert refusal is not None
    assert refusal.code == "hard_cap_exceeded"


def test_the_currency_is_checked_before_the_caps() -> None:
    refusal = check_reserve(_policy(), _figures(0), 10**9, "ZWG", None)
    assert refusal is not None
    assert refusal.code == "currency_mismatch"


def test_a_reserve_above_available_is_insufficient_funds() -> None:
    refusal = check_reserve(_policy(), _figures(funds=100, reserved=50), 51, "USD", None)
    assert refusal is not None
    assert refusal.code == "insufficient_funds"
    assert check_reserve(_policy(), _figures(funds=100, reserved=50), 50, "USD", None) is None


def test_member_caps_count_amount_and_number() -> None:
    policy = _policy(member_cap_amount_minor=1_000, member_cap_count=3)
    funds = _figures(10**9)
    assert check_reserve(policy, funds, 400, "USD", MemberUsage(600, 2)) is None
    by_amount = check_reserve(policy, funds, 401, "USD", MemberUsage(600, 2))
    by_count = check_reserve(policy, funds, 1, "USD", MemberUsage(0, 3))
    assert by_amount is not None
    assert by_count is not None
    assert (by_amount.code, by_count.code) == ("member_cap_exceeded", "member_cap_exceeded")
    assert (by_amount.context["cap"], by_count.context["cap"]) == ("amount", "count")


def test_alerts_are_due_when_used_crosses_the_soft_cap_and_each_threshold() -> None:
    policy = _policy()
    assert alerts_due(policy, 0, 700_000, 0) == []
    assert [a.key for a in alerts_due(policy, 0, 700_001, 0)] == ["soft_cap:0"]
    due = alerts_due(policy, 0, 950_000, 5)
    assert [a.key for a in due] == ["soft_cap:5", "threshold:80:5", "threshold:95:5"]
    assert [a.level.value for a in due] == ["warning", "warning", "critical"]
    # Staying above a line alerts nothing; only the line crossed now is due.
    assert alerts_due(policy, 700_001, 800_000, 9)[0].key == "threshold:80:9"
    assert alerts_due(policy, 950_000, 960_000, 9) == []


def test_percent_is_rounded_down_to_two_decimals() -> None:
    assert percent_text(2, 3) == "66.66"
    assert percent_text(0, 0) == "0.00"
    assert percent_text(1_000_000, 1_000_000) == "100.00"


@pytest.mark.parametrize(
    ("hard", "soft", "thresholds", "period"),
    [
        (0, 0, (80,), "monthly"),
        (100, 101, (80,), "monthly"),
        (100, 100, (), "monthly"),
        (100, 100, (80, 80), "monthly"),
        (100, 100, (0,), "monthly"),
        (100, 100, (101,), "monthly"),
        (100, 100, (80,), "weekly"),
    ],
)
def test_a_budget_that_cannot_work_is_refused(
    hard: int, soft: int, thresholds: tuple[int, ...], period: str
) -> None:
    with pytest.raises(ValidationError):
        check_policy(hard, soft, thresholds, period, False, None, None)


@pytest.mark.parametrize("value", ["", "a:b", "a/b", "x" * 41, "-a"])
def test_a_budget_id_is_url_safe_without_colons(value: str) -> None:
    with pytest.raises(ValidationError):
        budget_id(value)
