"""The pure rules the budget use cases decide by: corrections, charges and releases,
reconciliation, report windows and the checks of a request's fields."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rewardledger.domain.budgets import (
    BudgetPolicy,
    CorrectionRecord,
    EntryRecord,
    KindTotals,
    PeriodRecord,
    Resolution,
    check_charge,
    check_correction_replay,
    check_release,
    entry_totals,
    note,
    period_mismatches,
    plan_correction,
    policy_differences,
    report_window,
    timeout_seconds,
)
from rewardledger.domain.errors import (
    AlreadyCharged,
    IdempotencyConflict,
    NotFound,
    NotPending,
    ValidationError,
)
from tests.builders import budget_policy

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
PANAMA = ZoneInfo("America/Panama")
PERIOD_ACCOUNT = "budget:b:2026-03"


def _policy(**changes: object) -> BudgetPolicy:
    return budget_policy(**{"created_at": NOW, **changes})


def _period(**counters: int) -> PeriodRecord:
    values = {
        "funded": 0,
        "rolled_in": 0,
        "rolled_out": 0,
        "reversed_funds": 0,
        "reversed_charges": 0,
        "reserved_total": 0,
        "rollovers_count": 0,
    }
    values.update(counters)
    return PeriodRecord("b", "2026-03", PERIOD_ACCOUNT, NOW, **values)


def _row(phase: str, kind: str, debit: str, credit: str, amount_minor: int) -> EntryRecord:
    return EntryRecord("x", phase, kind, amount_minor, debit, credit, None, NOW, NOW, {}, False)


PERIODS = {PERIOD_ACCOUNT: _period()}
TOPUP = _row("posted", "fund", "budgets:funding:USD", PERIOD_ACCOUNT, 10_000)
CHARGE = _row("post", "reserve", PERIOD_ACCOUNT, "budgets:issued:USD", 4_000)


# Corrections ---------------------------------------------------------------------------------


def test_a_reversed_top_up_takes_its_funds_back_to_funding() -> None:
    plan = plan_correction(_policy(), "x", TOPUP, PERIODS, 0, None)
    assert (plan.debit_account_id, plan.credit_account_id) == (
        PERIOD_ACCOUNT,
        "budgets:funding:USD",
    )
    assert (plan.counter, plan.amount_minor, plan.period) == (
        "reversed_funds_minor",
        10_000,
        "2026-03",
    )


def test_a_reversed_charge_puts_its_money_back_into_the_period() -> None:
    plan = plan_correction(_policy(), "x", CHARGE, PERIODS, 0, 1_000)
    assert (plan.debit_account_id, plan.credit_account_id) == (
        "budgets:issued:USD",
        PERIOD_ACCOUNT,
    )
    assert (plan.counter, plan.amount_minor) == ("reversed_charges_minor", 1_000)


def test_a_correction_reverses_only_what_earlier_corrections_left() -> None:
    assert plan_correction(_policy(), "x", TOPUP, PERIODS, 7_000, None).amount_minor == 3_000
    with pytest.raises(ValidationError) as refused:
        plan_correction(_policy(), "x", TOPUP, PERIODS, 7_000, 3_001)
    assert refused.value.context["field"] == "amount"
    assert "30.00 left to reverse" in refused.value.message


def test_a_fully_reversed_transfer_cannot_be_corrected_again() -> None:
    with pytest.raises(ValidationError, match=r"0\.00 left"):
        plan_correction(_policy(), "x", TOPUP, PERIODS, 10_000, None)


def test_only_a_top_up_or_a_charge_of_this_budget_can_be_corrected() -> None:
    reserve = _row("pending", "reserve", PERIOD_ACCOUNT, "budgets:issued:USD", 4_000)
    elsewhere = _row("posted", "fund", "budgets:funding:USD", "budget:other:2026-03", 1)
    for target in (reserve, elsewhere):
        with pytest.raises(ValidationError) as refused:
            plan_correction(_policy(), "x", target, PERIODS, 0, None)
        assert refused.value.context["field"] == "reverses"


def test_a_missing_or_refused_transfer_is_not_found() -> None:
    refused_row = EntryRecord(
        "x", "posted", "fund", 1, "a", PERIOD_ACCOUNT, None, NOW, NOW, {}, True
    )
    for target in (None, refused_row):
        with pytest.raises(NotFound):
            plan_correction(_policy(), "x", target, PERIODS, 0, None)


def test_a_correction_replay_must_name_the_same_transfer_and_amount() -> None:
    done = CorrectionRecord("t", "rev", "b", "2026-03", "x", 500, "why", "ana", NOW)
    assert check_correction_replay("k", done, "x", None) is done
    assert check_correction_replay("k", done, "x", 500) is done
    with pytest.raises(IdempotencyConflict) as conflict:
        check_correction_replay("k", done, "x", 600)
    assert conflict.value.context["fields"] == ["amount"]
    with pytest.raises(IdempotencyConflict) as conflict:
        check_correction_replay("k", None, "x", None)
    assert conflict.value.context["fields"] == ["reverses", "amount"]


# Charges and releases ------------------------------------------------------------------------

POSTED = Resolution("budget:b:charge:k", "post", 300)
VOIDED = Resolution("void-1", "void", 500)


def test_an_open_reservation_may_be_charged_and_released() -> None:
    assert check_charge(_policy(), "r", None, None, None, None) is False
    assert check_release(_policy(), "r", None) is False


def test_the_same_charge_again_is_a_replay_and_another_is_already_charged() -> None:
    assert check_charge(_policy(), "r", POSTED, "budget:b:charge:k", "k", 300) is True
    assert check_charge(_policy(), "r", POSTED, "budget:b:charge:k", "k", None) is True
    with pytest.raises(IdempotencyConflict):
        check_charge(_policy(), "r", POSTED, "budget:b:charge:k", "k", 301)
    with pytest.raises(AlreadyCharged):
        check_charge(_policy(), "r", POSTED, None, None, None)
    with pytest.raises(AlreadyCharged):
        check_charge(_policy(), "r", POSTED, "budget:b:charge:other", "other", None)


def test_a_released_or_expired_reservation_holds_nothing_to_charge() -> None:
    for resolution in (VOIDED, Resolution("e", "expire", 500)):
        with pytest.raises(NotPending):
            check_charge(_policy(), "r", resolution, None, None, None)


def test_releasing_again_is_a_replay_but_a_charge_is_never_released() -> None:
    assert check_release(_policy(), "r", VOIDED) is True
    with pytest.raises(AlreadyCharged):
        check_release(_policy(), "r", POSTED)


# Reconciliation ------------------------------------------------------------------------------


def _journal(**totals: tuple[int, int]) -> KindTotals:
    return KindTotals(dict(totals))


def test_a_period_that_matches_its_journal_has_no_mismatch() -> None:
    record = _period(funded=10_000, reserved_total=3_000)
    journal = _journal(fund=(1, 10_000), reserve=(2, 3_000), charge=(1, 1_000))
    account = (10_000, 1_000, 2_000)
    assert period_mismatches(_policy(), record, account, journal, 2_000, 3_000) == []


def test_every_figure_off_its_journal_is_named_with_both_amounts() -> None:
    record = _period(funded=10_000)
    journal = _journal(fund=(1, 9_000))
    found = period_mismatches(_policy(), record, (10_000, 0, 0), journal, 0, 0)
    assert found == [("credits_posted", 10_000, 9_000), ("funded", 10_000, 9_000)]


def test_used_above_the_hard_cap_is_a_mismatch() -> None:
    record = _period(funded=2_000_000, reserved_total=1_500_000)
    journal = _journal(fund=(1, 2_000_000), reserve=(1, 1_500_000))
    account = (2_000_000, 0, 1_500_000)
    found = period_mismatches(_policy(), record, account, journal, 1_500_000, 1_500_000)
    assert found == [("used_above_hard_cap", 1_500_000, 1_000_000)]


def test_entry_totals_count_a_rollover_once_where_it_leaves() -> None:
    left = _journal(fund=(1, 500), rollover_out=(1, 200))
    arrived = _journal(rollover_in=(1, 200), reverse_out=(1, 50), reverse_in=(1, 20))
    totals, counts = entry_totals([left, arrived])
    assert (totals["fund"], totals["rollover"], totals["reverse"]) == (500, 200, 70)
    assert (counts["rollover"], counts["reverse"], counts["charge"]) == (1, 2, 0)


# Request fields and windows ------------------------------------------------------------------


def test_a_budget_defined_again_names_each_differing_field_in_order() -> None:
    assert policy_differences(_policy(), _policy(created_at=datetime(2027, 1, 1, tzinfo=UTC))) == []
    assert policy_differences(_policy(), _policy(rollover=True, name="x")) == ["name", "rollover"]


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10", 10**12])
def test_a_timeout_is_a_bounded_whole_number_of_seconds(value: object) -> None:
    with pytest.raises(ValidationError):
        timeout_seconds(value)


def test_no_timeout_means_the_reservation_never_expires() -> None:
    assert (timeout_seconds(None), timeout_seconds(60)) == (None, 60)


@pytest.mark.parametrize("value", ["", "   ", "x" * 10_000, None])
def test_a_correction_note_is_mandatory_and_bounded(value: object) -> None:
    with pytest.raises(ValidationError):
        note(value)


def test_a_month_report_runs_from_the_first_local_midnight_to_the_next() -> None:
    start, end = report_window(None, None, None, NOW, PANAMA)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-03-01T00:00:00-05:00",
        "2026-04-01T00:00:00-05:00",
    )


def test_explicit_dates_include_both_days_and_go_together() -> None:
    start, end = report_window(None, "2026-03-01", "2026-03-01", NOW, PANAMA)
    assert (end - start).days == 1
    with pytest.raises(ValidationError):
        report_window(None, "2026-03-01", None, NOW, PANAMA)
