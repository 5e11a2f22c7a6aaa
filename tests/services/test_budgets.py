"""Campaign budgets through the service layer, on SQLite and PostgreSQL: every rule of issue 3
and each rejection with its code, and that a rejection changes nothing but its alert."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rewardledger.domain.errors import (
    AlreadyCharged,
    AlreadyExists,
    CurrencyMismatch,
    HardCapExceeded,
    IdempotencyConflict,
    InsufficientFunds,
    MemberCapExceeded,
    NotFound,
    NotPending,
    ValidationError,
)
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets
from rewardledger.services.jobs import run_due_jobs
from tests.builders import FakeClock
from tests.conftest import owner_engine


def _budget(
    ledger: Ledger, tenant_id: str, *, funds: str | None = "20000.00", **options: object
) -> str:
    settings: dict[str, object] = {
        "currency": "USD",
        "hard_cap": "10000.00",
        "soft_cap": "7000.00",
        "period": "monthly",
    }
    settings.update(options)
    budgets.create_budget(ledger, tenant_id, "spring", **settings)  # type: ignore[arg-type]
    if funds is not None:
        budgets.topup(
            ledger, tenant_id, "spring", amount=funds, currency="USD", idempotency_key="seed"
        )
    return "spring"


def _snapshot(ledger: Ledger, tenant_id: str, budget: str) -> budgets.Utilization:
    return budgets.utilization(ledger, tenant_id, budget)


def test_a_new_budget_starts_with_nothing_used(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id, funds=None)
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.funded, u.used, u.available, u.remaining, u.utilization_percent) == (
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
    )
    assert u.period == "2026-03"


def test_creating_a_budget_again_with_other_values_is_already_exists(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id, funds=None)
    again = budgets.create_budget(
        ledger, tenant_id, "spring", currency="USD", hard_cap="10000.00", soft_cap="7000.00"
    )
    assert again.hard_cap_minor == 1_000_000
    with pytest.raises(AlreadyExists):
        budgets.create_budget(ledger, tenant_id, "spring", currency="USD", hard_cap="5.00")


def test_a_soft_cap_above_the_hard_cap_is_refused(ledger: Ledger, tenant_id: str) -> None:
    with pytest.raises(ValidationError):
        budgets.create_budget(
            ledger, tenant_id, "b", currency="USD", hard_cap="10.00", soft_cap="11.00"
        )


def test_topup_raises_funds_but_not_used_and_replays_by_key(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    first = budgets.topup(
        ledger, tenant_id, "spring", amount="5.00", currency="USD", idempotency_key="t1"
    )
    again = budgets.topup(
        ledger, tenant_id, "spring", amount="5.00", currency="USD", idempotency_key="t1"
    )
    assert (first.replayed, again.replayed) == (False, True)
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.funded, u.used, u.available) == ("20005.00", "0.00", "20005.00")
    with pytest.raises(IdempotencyConflict):
        budgets.topup(
            ledger, tenant_id, "spring", amount="6.00", currency="USD", idempotency_key="t1"
        )


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001"])
def test_topup_amount_must_be_positive_with_the_currency_scale(
    ledger: Ledger, tenant_id: str, amount: str
) -> None:
    _budget(ledger, tenant_id)
    with pytest.raises(ValidationError):
        budgets.topup(
            ledger, tenant_id, "spring", amount=amount, currency="USD", idempotency_key="x"
        )


def test_topup_in_another_currency_is_currency_mismatch(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    with pytest.raises(CurrencyMismatch):
        budgets.topup(
            ledger, tenant_id, "spring", amount="1.00", currency="ZWG", idempotency_key="z"
        )


def test_reserve_holds_the_amount_and_replays_by_reference(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    first = budgets.reserve(
        ledger, tenant_id, "spring", reference="iss-1", amount="500.00", currency="USD"
    )
    again = budgets.reserve(
        ledger, tenant_id, "spring", reference="iss-1", amount="500.00", currency="USD"
    )
    assert (first.state, first.replayed, again.replayed) == ("reserved", False, True)
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.reserved, u.used, u.available, u.remaining) == (
        "500.00",
        "500.00",
        "19500.00",
        "9500.00",
    )
    with pytest.raises(IdempotencyConflict):
        budgets.reserve(
            ledger, tenant_id, "spring", reference="iss-1", amount="1.00", currency="USD"
        )


def _rejected_changes_nothing(
    ledger: Ledger, tenant_id: str, error: type[Exception], **reserve: object
) -> None:
    before = _snapshot(ledger, tenant_id, "spring")
    count_before = ledger.count_accounts(tenant_id)
    with pytest.raises(error):
        budgets.reserve(ledger, tenant_id, "spring", **reserve)  # type: ignore[arg-type]
    assert _snapshot(ledger, tenant_id, "spring") == before
    assert ledger.count_accounts(tenant_id) == count_before
    with pytest.raises(NotFound):
        budgets.get_reservation(ledger, tenant_id, "spring", str(reserve["reference"]))
    assert budgets.reconcile(ledger, tenant_id, "spring").clean


def test_a_reserve_past_the_hard_cap_is_hard_cap_exceeded_and_changes_nothing(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="9999.00", currency="USD")
    _rejected_changes_nothing(
        ledger, tenant_id, HardCapExceeded, reference="b", amount="1.01", currency="USD"
    )
    budgets.reserve(ledger, tenant_id, "spring", reference="c", amount="1.00", currency="USD")
    assert _snapshot(ledger, tenant_id, "spring").used == "10000.00"


def test_a_reserve_past_the_funds_is_insufficient_funds_and_changes_nothing(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id, funds="100.00")
    _rejected_changes_nothing(
        ledger, tenant_id, InsufficientFunds, reference="b", amount="100.01", currency="USD"
    )


def test_a_reserve_in_another_currency_is_currency_mismatch_and_changes_nothing(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    _rejected_changes_nothing(
        ledger, tenant_id, CurrencyMismatch, reference="b", amount="1.00", currency="ZWG"
    )


def test_member_caps_limit_amount_and_count_per_member_and_period(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id, member_cap_amount="50.00", member_cap_count=2)
    budgets.reserve(
        ledger, tenant_id, "spring", reference="a", amount="30.00", currency="USD", member_key="m1"
    )
    _rejected_changes_nothing(
        ledger,
        tenant_id,
        MemberCapExceeded,
        reference="b",
        amount="20.01",
        currency="USD",
        member_key="m1",
    )
    budgets.reserve(
        ledger, tenant_id, "spring", reference="c", amount="20.00", currency="USD", member_key="m1"
    )
    budgets.release(ledger, tenant_id, "spring", "c")
    budgets.reserve(
        ledger, tenant_id, "spring", reference="d", amount="5.00", currency="USD", member_key="m1"
    )
    _rejected_changes_nothing(
        ledger,
        tenant_id,
        MemberCapExceeded,
        reference="e",
        amount="1.00",
        currency="USD",
        member_key="m1",
    )
    budgets.reserve(
        ledger, tenant_id, "spring", reference="f", amount="50.00", currency="USD", member_key="m2"
    )


def test_charge_posts_the_reservation_in_full_or_for_less(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="100.00", currency="USD")
    full = budgets.charge(ledger, tenant_id, "spring", "a")
    part = budgets.charge(ledger, tenant_id, "spring", "b", amount="40.00")
    assert (full.state, full.charged_amount) == ("charged", "100.00")
    assert (part.state, part.charged_amount) == ("charged", "40.00")
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.reserved, u.charged, u.released, u.used, u.balance) == (
        "0.00",
        "140.00",
        "60.00",
        "140.00",
        "19860.00",
    )


def test_a_second_charge_is_already_charged_but_a_replay_by_key_returns_the_first(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    first = budgets.charge(ledger, tenant_id, "spring", "a", idempotency_key="k1")
    replay = budgets.charge(ledger, tenant_id, "spring", "a", idempotency_key="k1")
    assert replay.replayed
    assert replay.resolved_by == first.resolved_by
    with pytest.raises(AlreadyCharged):
        budgets.charge(ledger, tenant_id, "spring", "a", idempotency_key="k2")
    with pytest.raises(AlreadyCharged):
        budgets.charge(ledger, tenant_id, "spring", "a")
    assert _snapshot(ledger, tenant_id, "spring").charged == "100.00"


def test_charging_or_releasing_an_unknown_reservation_is_not_found(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    with pytest.raises(NotFound):
        budgets.charge(ledger, tenant_id, "spring", "nope")
    with pytest.raises(NotFound):
        budgets.release(ledger, tenant_id, "spring", "nope")


def test_release_returns_the_funds_and_a_charged_one_cannot_be_released(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="100.00", currency="USD")
    released = budgets.release(ledger, tenant_id, "spring", "a")
    again = budgets.release(ledger, tenant_id, "spring", "a")
    assert (released.state, again.state, again.replayed) == ("released", "released", True)
    budgets.charge(ledger, tenant_id, "spring", "b")
    with pytest.raises(AlreadyCharged):
        budgets.release(ledger, tenant_id, "spring", "b")
    with pytest.raises(NotPending):
        budgets.charge(ledger, tenant_id, "spring", "a")
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.reserved, u.charged, u.released, u.available) == (
        "0.00",
        "100.00",
        "100.00",
        "19900.00",
    )


def test_reservations_past_their_expiry_are_released_by_due_jobs(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(
        ledger,
        tenant_id,
        "spring",
        reference="a",
        amount="100.00",
        currency="USD",
        timeout_seconds=60,
    )
    clock.advance(seconds=61)
    report = run_due_jobs(ledger, tenant_id)
    assert report.steps["holds"]["holds_expired"] == 1
    assert budgets.get_reservation(ledger, tenant_id, "spring", "a").state == "expired"
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.reserved, u.released, u.used) == ("0.00", "100.00", "0.00")
    with pytest.raises(NotPending):
        budgets.charge(ledger, tenant_id, "spring", "a")
    assert budgets.reconcile(ledger, tenant_id, "spring").clean


def _alert_keys(ledger: Ledger, tenant_id: str) -> list[tuple[str, int | None]]:
    return sorted(
        (a.kind, a.threshold_percent) for a in budgets.alerts(ledger, tenant_id, limit=100)
    )


def test_each_threshold_alerts_once_per_period(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _budget(ledger, tenant_id, funds="100000.00")
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="7000.00", currency="USD")
    assert _alert_keys(ledger, tenant_id) == []
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="1000.00", currency="USD")
    assert _alert_keys(ledger, tenant_id) == [
        ("hard_cap_approaching", 80),
        ("soft_cap_exceeded", None),
    ]
    budgets.reserve(ledger, tenant_id, "spring", reference="c", amount="100.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="d", amount="1400.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="e", amount="10.00", currency="USD")
    assert _alert_keys(ledger, tenant_id) == [
        ("hard_cap_approaching", 80),
        ("hard_cap_approaching", 95),
        ("soft_cap_exceeded", None),
    ]
    levels = {a.threshold_percent: a.level for a in budgets.alerts(ledger, tenant_id)}
    assert levels[95] == "critical"
    # A new month: the same thresholds alert again, once.
    clock.set(datetime(2026, 4, 15, 12, 0, tzinfo=UTC))
    budgets.topup(
        ledger, tenant_id, "spring", amount="10000.00", currency="USD", idempotency_key="april"
    )
    for ref in ("f", "g"):
        budgets.reserve(
            ledger, tenant_id, "spring", reference=ref, amount="4000.00", currency="USD"
        )
    assert len(budgets.alerts(ledger, tenant_id, limit=100)) == 5


def test_a_rejected_reserve_writes_one_critical_alert(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    for _ in range(2):
        with pytest.raises(HardCapExceeded):
            budgets.reserve(
                ledger, tenant_id, "spring", reference="big", amount="10000.01", currency="USD"
            )
    [alert] = budgets.alerts(ledger, tenant_id)
    assert (alert.kind, alert.level, alert.details["amount"]) == (
        "reserve_rejected:hard_cap_exceeded",
        "critical",
        "10000.01",
    )


def test_usage_resets_at_a_month_boundary_in_the_tenants_time_zone(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    # The tenant is in America/Panama (UTC-5): 2026-04-01T03:00Z is still March 31 there.
    clock.set(datetime(2026, 3, 31, 12, 0, tzinfo=UTC))
    _budget(ledger, tenant_id, funds="1000.00")
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="400.00", currency="USD")
    clock.set(datetime(2026, 4, 1, 3, 0, tzinfo=UTC))
    assert _snapshot(ledger, tenant_id, "spring").period == "2026-03"
    clock.set(datetime(2026, 4, 1, 5, 0, tzinfo=UTC))
    run_due_jobs(ledger, tenant_id)
    april = _snapshot(ledger, tenant_id, "spring")
    assert (april.period, april.used, april.funded, april.available) == (
        "2026-04",
        "0.00",
        "0.00",
        "0.00",
    )
    march = budgets.utilization(ledger, tenant_id, "spring", period="2026-03")
    assert (march.reserved, march.available) == ("400.00", "600.00")
    # Without rollover, March's funds stay in March: a reserve in April needs a top-up.
    with pytest.raises(InsufficientFunds):
        budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="1.00", currency="USD")
    # The March reservation stays with March.
    budgets.charge(ledger, tenant_id, "spring", "a")
    march = budgets.utilization(ledger, tenant_id, "spring", period="2026-03")
    assert (march.charged, march.used) == ("400.00", "400.00")
    assert budgets.reconcile(ledger, tenant_id, "spring").clean


def test_rollover_moves_unused_funds_into_the_new_period_as_a_visible_entry(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 31, 12, 0, tzinfo=UTC))
    _budget(ledger, tenant_id, funds="1000.00", rollover=True)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="400.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="100.00", currency="USD")
    clock.set(datetime(2026, 4, 1, 5, 0, tzinfo=UTC))
    first = run_due_jobs(ledger, tenant_id).steps["budgets"]
    second = run_due_jobs(ledger, tenant_id).steps["budgets"]
    assert first == {"budget_periods_opened": 1, "budget_rollovers": 1}
    assert second == {"budget_periods_opened": 0, "budget_rollovers": 0}
    april = _snapshot(ledger, tenant_id, "spring")
    assert (april.rolled_in, april.used, april.available) == ("500.00", "0.00", "500.00")
    # A March reservation released later returns to March; the next run sweeps it over.
    budgets.release(ledger, tenant_id, "spring", "b")
    assert run_due_jobs(ledger, tenant_id).steps["budgets"]["budget_rollovers"] == 1
    assert _snapshot(ledger, tenant_id, "spring").available == "600.00"
    kinds = [e.entry_type for e in budgets.entries(ledger, tenant_id, "spring", limit=100).entries]
    assert kinds.count("rollover") == 2
    assert budgets.reconcile(ledger, tenant_id, "spring").clean


def test_a_correction_reverses_a_charge_with_a_note_and_an_audit_row(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    charged = budgets.charge(ledger, tenant_id, "spring", "a")
    assert charged.resolved_by is not None
    with pytest.raises(ValidationError):
        budgets.correct(
            ledger,
            tenant_id,
            "spring",
            reverses=charged.resolved_by,
            note=" ",
            actor="ops@acme",
            idempotency_key="c1",
        )
    fix = budgets.correct(
        ledger,
        tenant_id,
        "spring",
        reverses=charged.resolved_by,
        amount="30.00",
        note="double redemption at till 4",
        actor="ops@acme",
        idempotency_key="c1",
    )
    assert (fix.amount, fix.actor) == ("30.00", "ops@acme")
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.charged, u.used, u.available) == ("70.00", "70.00", "19930.00")
    with pytest.raises(ValidationError):
        budgets.correct(
            ledger,
            tenant_id,
            "spring",
            reverses=charged.resolved_by,
            amount="70.01",
            note="too much",
            actor="ops@acme",
            idempotency_key="c2",
        )
    [audit] = budgets.corrections(ledger, tenant_id, "spring")
    assert audit.note == "double redemption at till 4"
    assert budgets.reconcile(ledger, tenant_id, "spring").clean


def test_a_correction_reverses_a_top_up(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id, funds=None)
    funded = budgets.topup(
        ledger, tenant_id, "spring", amount="50.00", currency="USD", idempotency_key="t"
    )
    budgets.correct(
        ledger,
        tenant_id,
        "spring",
        reverses=funded.transfer_id,
        note="entered twice",
        actor="ops",
        idempotency_key="c1",
    )
    u = _snapshot(ledger, tenant_id, "spring")
    assert (u.funded, u.reversed, u.available) == ("50.00", "50.00", "0.00")
    assert budgets.reconcile(ledger, tenant_id, "spring").clean


def test_reports_total_by_entry_type_and_render_as_csv(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="50.00", currency="USD")
    budgets.charge(ledger, tenant_id, "spring", "a")
    budgets.release(ledger, tenant_id, "spring", "b")
    report = budgets.report(ledger, tenant_id, "spring", range_name="month")
    assert report.totals["fund"] == "20000.00"
    assert report.totals["reserve"] == "150.00"
    assert (report.totals["charge"], report.totals["release"]) == ("100.00", "50.00")
    assert (report.issuance_count, report.redemption_count) == (2, 1)
    empty = budgets.report(
        ledger, tenant_id, "spring", date_from="2025-01-01", date_to="2025-01-31"
    )
    assert empty.issuance_count == 0
    text = budgets.reports_csv(budgets.tenant_report(ledger, tenant_id, range_name="year"))
    header, row = text.splitlines()
    assert header.startswith("budget_id,name,currency")
    assert row.startswith("spring,spring,USD")


def test_a_reports_release_total_counts_the_rest_of_a_partial_charge(
    ledger: Ledger, tenant_id: str
) -> None:
    # Issue 13: "a report's release total (50) disagrees with utilization's released (70)
    # after a partial charge". Reserve 100 and 50, charge 80 of the first, release the second.
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="50.00", currency="USD")
    budgets.charge(ledger, tenant_id, "spring", "a", amount="80.00")
    budgets.release(ledger, tenant_id, "spring", "b")
    report = budgets.report(ledger, tenant_id, "spring", range_name="month")
    released = budgets.utilization(ledger, tenant_id, "spring").released
    assert (report.totals["release"], released) == ("70.00", "70.00")
    assert (report.totals["reserve"], report.totals["charge"]) == ("150.00", "80.00")
    reconciled = budgets.reconcile(ledger, tenant_id, "spring")
    assert reconciled.clean
    assert reconciled.totals["release"] == "70.00"
    # Outside the charge's window, its rest is not counted either.
    empty = budgets.report(
        ledger, tenant_id, "spring", date_from="2025-01-01", date_to="2025-01-31"
    )
    assert empty.totals["release"] == "0.00"


def test_entries_page_through_the_budgets_journal(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    for ref in "abcde":
        budgets.reserve(ledger, tenant_id, "spring", reference=ref, amount="1.00", currency="USD")
    seen: list[str] = []
    cursor = None
    while True:
        page = budgets.entries(ledger, tenant_id, "spring", limit=2, cursor=cursor)
        seen += [e.transfer_id for e in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 6
    with pytest.raises(ValidationError):
        budgets.entries(ledger, tenant_id, "spring", cursor="!!")


def test_deep_entry_pages_return_every_row_once_in_order(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    """Pages of the keyset (created_at, transfer_id) DESC: rows that share an instant are
    split across pages by their id, and no row is skipped or repeated however deep."""
    _budget(ledger, tenant_id)
    for n in range(45):
        if n % 4 == 0:  # runs of entries created at one instant, as in a busy second
            clock.advance(seconds=1)
        budgets.reserve(
            ledger, tenant_id, "spring", reference=f"r{n:02d}", amount="1.00", currency="USD"
        )
    everything = budgets.entries(ledger, tenant_id, "spring", limit=PAGE_SIZE_MAX).entries
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = budgets.entries(ledger, tenant_id, "spring", limit=4, cursor=cursor)
        seen += [e.transfer_id for e in page.entries]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(everything) == 46  # the funding and 45 reserves
    assert seen == [e.transfer_id for e in everything]
    assert len(set(seen)) == len(seen)
    assert pages == 12
    order = [(e.created_at, e.transfer_id) for e in everything]
    assert order == sorted(order, reverse=True)


def test_tenant_reconciliation_summarises_every_budget(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    budgets.create_budget(ledger, tenant_id, "zw", currency="ZWG", hard_cap="100.00")
    summary = budgets.reconcile_tenant(ledger, tenant_id)
    assert (summary.budgets_checked, summary.budgets_clean, summary.clean) == (2, 2, True)


def test_the_core_integrity_check_stays_clean(ledger: Ledger, tenant_id: str) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    budgets.charge(ledger, tenant_id, "spring", "a", amount="10.00")
    assert ledger.verify(tenant_id).ok


def test_reconciliation_lists_a_figure_changed_behind_the_ledgers_back(
    ledger: Ledger, tenant_id: str
) -> None:
    _budget(ledger, tenant_id)
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="100.00", currency="USD")
    engine = owner_engine(ledger)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE budget_periods SET funded_minor = funded_minor + 1 "
                "WHERE tenant_id = :t AND budget_id = 'spring'"
            ),
            {"t": tenant_id},
        )
    found = budgets.reconcile(ledger, tenant_id, "spring")
    assert not found.clean
    assert [(d.period, d.figure, d.materialized, d.journal) for d in found.discrepancies] == [
        ("2026-03", "funded", "20000.01", "20000.00")
    ]
    summary = budgets.reconcile_tenant(ledger, tenant_id)
    assert (summary.clean, summary.discrepancies_count) == (False, 1)


@pytest.mark.parametrize(
    "statement", ["UPDATE budget_corrections SET note = 'x'", "DELETE FROM budget_corrections"]
)
def test_the_corrections_audit_trail_refuses_plain_sql_updates_and_deletes(
    ledger: Ledger, tenant_id: str, statement: str
) -> None:
    _budget(ledger, tenant_id)
    budgets.correct(
        ledger,
        tenant_id,
        "spring",
        reverses="budget:spring:fund:seed",
        amount="1.00",
        note="test",
        actor="ops",
        idempotency_key="c",
    )
    engine = owner_engine(ledger)
    with pytest.raises(DBAPIError, match="audit trail"), engine.begin() as connection:
        connection.execute(text(f"{statement} WHERE tenant_id = :t"), {"t": tenant_id})
    assert len(budgets.corrections(ledger, tenant_id, "spring")) == 1


@pytest.mark.parametrize(
    ("range_name", "start", "end"),
    [
        ("today", "2026-03-15T00:00:00-05:00", "2026-03-16T00:00:00-05:00"),
        ("week", "2026-03-09T00:00:00-05:00", "2026-03-16T00:00:00-05:00"),
        ("month", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-05:00"),
        ("quarter", "2026-01-01T00:00:00-05:00", "2026-04-01T00:00:00-05:00"),
        ("year", "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00"),
    ],
)
def test_report_ranges_follow_the_tenants_calendar(range_name: str, start: str, end: str) -> None:
    # Sunday 2026-03-15 07:00 in Panama.
    now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    window = budgets.report_window(range_name, None, None, now, ZoneInfo("America/Panama"))
    assert window == (datetime.fromisoformat(start), datetime.fromisoformat(end))


def test_explicit_report_dates_include_both_days(ledger: Ledger, tenant_id: str) -> None:
    zone = ZoneInfo("America/Panama")
    now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    start, end = budgets.report_window(None, "2026-02-01", "2026-02-28", now, zone)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-02-01T00:00:00-05:00",
        "2026-03-01T00:00:00-05:00",
    )
    with pytest.raises(ValidationError):
        budgets.report_window(None, "2026-02-28", "2026-02-01", now, zone)
    with pytest.raises(ValidationError):
        budgets.report_window(None, "2026-02-01", None, now, zone)


def test_a_rejected_reserve_in_a_new_period_opens_nothing_and_rolls_nothing_over(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _budget(ledger, tenant_id, funds="1000.00", rollover=True)
    clock.set(datetime(2026, 4, 15, 12, 0, tzinfo=UTC))
    accounts = ledger.count_accounts(tenant_id)
    with pytest.raises(HardCapExceeded):
        budgets.reserve(
            ledger, tenant_id, "spring", reference="big", amount="10000.01", currency="USD"
        )
    assert ledger.count_accounts(tenant_id) == accounts
    kinds = [e.entry_type for e in budgets.entries(ledger, tenant_id, "spring").entries]
    assert kinds == ["fund"]
    assert budgets.utilization(ledger, tenant_id, "spring", period="2026-03").available == (
        "1000.00"
    )
    [alert] = budgets.alerts(ledger, tenant_id)
    assert (alert.period, alert.kind) == ("2026-04", "reserve_rejected:hard_cap_exceeded")
    # The first reserve that passes opens April and rolls March over.
    budgets.reserve(ledger, tenant_id, "spring", reference="ok", amount="10.00", currency="USD")
    april = budgets.utilization(ledger, tenant_id, "spring")
    assert (april.rolled_in, april.used) == ("1000.00", "10.00")
