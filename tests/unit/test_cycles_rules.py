"""The pure cycle rules: tags, boundaries, the cap, and each ledger column's rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardledger.domain.cycles import (
    TAG_PATTERN,
    CashbackAccountSettings,
    CashbackProgram,
    CashbackTotals,
    CycleStatus,
    DebtProgram,
    DebtStatus,
    DebtTotals,
    Eligibility,
    cashback_cycle_closes_at,
    cashback_row,
    check_tag,
    credited_minor,
    debt_cycle_tag,
    debt_row,
    next_tag,
    parse_tag,
    statement_due_at,
)
from rewardledger.domain.errors import ValidationError

PANAMA = ZoneInfo("America/Panama")
HARARE = ZoneInfo("Africa/Harare")
PROGRAM = CashbackProgram("USD", minimum_spend_minor=10_000, default_cap_minor=5_000, grace_days=2)
DEBT = DebtProgram("USD", closing_day=31, due_day=15, grace_days=0)
MARCH_NOW = datetime(2026, 3, 15, tzinfo=UTC)


def _cashback(spend: int, cashback: int, cap: int | None = None, **kw: object) -> Eligibility:
    row = cashback_row(
        "a", "2026-03", CashbackTotals(spend, cashback, cap, False), None, PROGRAM, PANAMA,
        kw.get("now", MARCH_NOW), 2,  # type: ignore[arg-type]
    )  # fmt: skip
    return row.eligibility


def test_cycle_tags_parse_and_advance_across_the_year() -> None:
    assert parse_tag("2026-12") == (2026, 12)
    assert next_tag("2026-12") == "2027-01"
    for bad in ("2026-13", "2026-3", "26-03", 202603):
        with pytest.raises(ValidationError):
            parse_tag(bad)


def test_a_cashback_cycle_closes_after_its_local_month_and_the_grace() -> None:
    # April 1 00:00 in Panama is 05:00 UTC; two days of grace.
    assert cashback_cycle_closes_at("2026-03", PANAMA, 2) == datetime(2026, 4, 3, 5, tzinfo=UTC)


def test_the_cap_credits_at_most_the_headroom_unless_overridden() -> None:
    assert credited_minor(300, 4_800, 5_000, override=False) == 200
    assert credited_minor(300, 5_100, 5_000, override=False) == 0
    assert credited_minor(300, 4_800, 5_000, override=True) == 300


@given(
    requested=st.integers(1, 10**12),
    so_far=st.integers(0, 10**12),
    cap=st.integers(0, 10**12),
)
def test_a_credit_never_takes_a_cycle_past_its_cap_without_an_override(
    requested: int, so_far: int, cap: int
) -> None:
    credited = credited_minor(requested, so_far, cap, override=False)
    assert 0 <= credited <= requested
    assert so_far + credited <= max(cap, so_far)


def test_eligibility_follows_cap_then_enrolment_then_minimum_spend_then_open_or_closed() -> None:
    assert _cashback(1_000, 5_000) is Eligibility.REACHED_CAP
    assert _cashback(20_000, 100) is Eligibility.ELIGIBLE
    assert _cashback(1_000, 100) is Eligibility.PENDING
    closed = datetime(2026, 4, 3, 5, tzinfo=UTC)
    assert _cashback(1_000, 100, now=closed) is Eligibility.NOT_ELIGIBLE
    not_enrolled = cashback_row(
        "a", "2026-03", CashbackTotals(20_000, 100, None, False),
        CashbackAccountSettings("a", None, enrolled=False), PROGRAM, PANAMA, MARCH_NOW, 2,
    )  # fmt: skip
    assert not_enrolled.eligibility is Eligibility.NOT_ELIGIBLE


def test_the_cap_is_the_snapshot_else_the_accounts_else_the_programmes() -> None:
    def cap(snapshot: int | None, account_cap: int | None) -> int:
        settings = CashbackAccountSettings("a", account_cap, True)
        totals = CashbackTotals(0, 0, snapshot, False)
        row = cashback_row("a", "2026-03", totals, settings, PROGRAM, PANAMA, MARCH_NOW, 2)
        return row.budget_cap_minor

    assert (cap(700, 600), cap(None, 600), cap(None, None)) == (700, 600, 5_000)


def test_remaining_budget_may_be_negative_and_the_status_closes() -> None:
    row = cashback_row(
        "a", "2026-03", CashbackTotals(0, 5_500, None, True), None, PROGRAM, PANAMA,
        datetime(2026, 4, 3, 5, tzinfo=UTC), 2,
    )  # fmt: skip
    assert (row.remaining_budget_minor, row.status) == (-500, CycleStatus.CLOSED)


def test_a_debt_tag_is_the_month_in_which_the_statement_closes() -> None:
    # Closing day 20 in Harare (UTC+2): March 20 23:59 local is March; March 21 00:00 is April.
    assert debt_cycle_tag(datetime(2026, 3, 20, 21, 59, tzinfo=UTC), HARARE, 20) == "2026-03"
    assert debt_cycle_tag(datetime(2026, 3, 20, 22, 0, tzinfo=UTC), HARARE, 20) == "2026-04"
    # Closing day 31 in February means February's last day.
    assert debt_cycle_tag(datetime(2026, 2, 28, 12, tzinfo=UTC), HARARE, 31) == "2026-02"
    assert debt_cycle_tag(datetime(2026, 12, 25, tzinfo=UTC), HARARE, 20) == "2027-01"


def test_the_due_day_is_clamped_in_short_months() -> None:
    # Statement of January, due on the 31st of February: February 28, end of day, in Harare.
    assert statement_due_at("2026-01", HARARE, 31) == datetime(2026, 2, 28, 22, tzinfo=UTC)


def _debt(
    totals: DebtTotals, carried: int = 0, now: datetime = MARCH_NOW
) -> tuple[int, DebtStatus]:
    row = debt_row("p", "2026-03", totals, carried, DEBT, PANAMA, now, 2)
    return row.net_debt_minor, row.status


def test_debt_status_rules() -> None:
    assert _debt(DebtTotals(0, False, 1_000, 0, 0, None)) == (1_000, DebtStatus.OPEN)
    assert _debt(DebtTotals(0, False, 1_000, 400, 100, None)) == (500, DebtStatus.PARTIAL)
    assert _debt(DebtTotals(0, False, 1_000, 1_000, 0, None)) == (0, DebtStatus.REPAID)
    assert _debt(DebtTotals(0, False, 0, 0, 0, None), carried=300) == (300, DebtStatus.OPEN)
    assert _debt(DebtTotals(200, True, 0, 0, 0, None), carried=300) == (200, DebtStatus.OPEN)
    late = datetime(2026, 4, 16, 5, tzinfo=UTC)  # April 15 ends at 05:00 UTC on the 16th
    assert _debt(DebtTotals(0, False, 1_000, 400, 0, None), now=late) == (600, DebtStatus.OVERDUE)
    assert _debt(DebtTotals(0, False, 1_000, 1_200, 0, None), now=late) == (-200, DebtStatus.REPAID)


def test_a_due_date_in_a_dst_fold_equals_its_stored_utc_instant() -> None:
    # Havana's clocks fall back from 01:00 to 00:00 on 2025-11-02, so the end of November 1
    # (local midnight) happens twice. The row must carry the instant (the first midnight,
    # 04:00 UTC), not the ambiguous local time, which never equals a stored UTC value.
    havana = ZoneInfo("America/Havana")
    program = DebtProgram("USD", closing_day=31, due_day=1, grace_days=0)
    row = debt_row(
        "ana", "2025-10", DebtTotals(1, True, 0, 0, 0, None), 0, program, havana, MARCH_NOW, 2
    )
    stored = datetime(2025, 11, 2, 4, tzinfo=UTC)
    assert row.due_at == stored
    assert row.due_at.tzinfo is UTC


def test_the_schemas_tag_pattern_accepts_exactly_the_tags_check_tag_accepts() -> None:
    pattern = re.compile(TAG_PATTERN)
    for year in range(10_000):
        for month in ("00", "01", "12", "13"):
            tag = f"{year:04d}-{month}"
            try:
                check_tag(tag)
                accepted = True
            except ValidationError:
                accepted = False
            assert (pattern.fullmatch(tag) is not None) is accepted, tag
    assert check_tag("1900-01") == "1900-01"
    assert check_tag("9000-12") == "9000-12"
