"""The events the due steps write, on both engines: expiring-soon reminders once per (holder,
asset, expiry date, days ahead), a budget period closed with its figures when the next one
opens, and the daily reconciliation's result (clean, or the mismatches it found)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import text

from rewardledger.domain.points import ExpiryKind, ExpiryPolicy, holder_account_id
from rewardledger.events import STORE as EVENTS
from rewardledger.events.catalogue import CATALOGUE
from rewardledger.events.views import START, StoredEvent
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, points, reconciliation
from rewardledger.worker import STEPS, Schedule, Worker
from tests.builders import FakeClock, fund, programme
from tests.conftest import owner_engine, wait_for_feed

TEN_DAYS = ExpiryPolicy(ExpiryKind.AFTER, days=10)


def feed(ledger: Ledger, tenant_id: str) -> list[StoredEvent]:
    """Every event the tenant has written so far, in feed order."""
    wait_for_feed(ledger, tenant_id)
    return ledger.extension(EVENTS).read_after(tenant_id, START, 1_000)


def events_of(ledger: Ledger, tenant_id: str, event_type: str) -> list[tuple[str, Any]]:
    rows = feed(ledger, tenant_id)
    return [(e.subject_id, dict(e.payload or {})) for e in rows if e.event_type == event_type]


def assert_in_catalogue(event_type: str, payload: Mapping[str, object]) -> None:
    assert set(payload) <= set(CATALOGUE[event_type].fields)


# Expiring-soon reminders --------------------------------------------------------------------


def _earn(ledger: Ledger, tenant_id: str, holder: str, amount: str, reference: str) -> None:
    points.earn(ledger, tenant_id, holder, amount, dtype="invoice", reference=reference)


@pytest.fixture
def lumis(ledger: Ledger, tenant_id: str) -> str:
    points.configure(ledger, tenant_id, "LUMIS", expiry=TEN_DAYS)
    return "LUMIS"


def test_points_expiring_within_the_window_are_announced_once_per_holder_and_date(
    ledger: Ledger, tenant_id: str, clock: FakeClock, lumis: str
) -> None:
    _earn(ledger, tenant_id, "u1", "100", "e1")
    clock.advance(hours=1)
    _earn(ledger, tenant_id, "u1", "20", "e2")  # the same expiry date, an hour later
    _earn(ledger, tenant_id, "u2", "5", "e3")
    assert points.remind_expiring(ledger, tenant_id, days_ahead=7) == {
        "holders_reminded": 0,
        "expiry_dates_reminded": 0,
    }
    clock.advance(days=4)  # the lots now expire in 6 days (less an hour)
    counts = points.remind_expiring(ledger, tenant_id, days_ahead=7)
    assert counts == {"holders_reminded": 2, "expiry_dates_reminded": 2}
    written = dict(events_of(ledger, tenant_id, "points.expiring_soon"))
    assert sorted(written) == ["LUMIS/u1", "LUMIS/u2"]
    first = written["LUMIS/u1"]
    assert_in_catalogue("points.expiring_soon", first)
    # Lots earned at 12:00 and 13:00 UTC on 15 March expire on 25 March (Panama time).
    assert first["holder"] == "u1"
    assert first["asset"] == "LUMIS"
    assert first["amount"] == "120"
    assert first["days_ahead"] == 7
    assert [e["date"] for e in first["expiring"]] == ["2026-03-25"]
    assert first["expiring"][0]["amount"] == "120"
    assert first["first_expires_at"] == "2026-03-25T12:00:00+00:00"
    assert written["LUMIS/u2"]["amount"] == "5"
    # Running again, the same day or the next, announces nothing twice.
    assert points.remind_expiring(ledger, tenant_id, days_ahead=7)["holders_reminded"] == 0
    clock.advance(days=1)
    assert points.remind_expiring(ledger, tenant_id, days_ahead=7)["holders_reminded"] == 0
    assert len(events_of(ledger, tenant_id, "points.expiring_soon")) == 2


def test_a_new_expiry_date_or_a_new_window_is_announced_alone(
    ledger: Ledger, tenant_id: str, clock: FakeClock, lumis: str
) -> None:
    _earn(ledger, tenant_id, "u1", "100", "e1")
    clock.advance(days=4)
    points.remind_expiring(ledger, tenant_id, days_ahead=7)
    clock.advance(days=1)
    _earn(ledger, tenant_id, "u1", "30", "e2")  # expires 5 days after the first lot
    points.spend(ledger, tenant_id, "u1", "10", dtype="points", reference="s1")
    clock.advance(days=4)
    points.remind_expiring(ledger, tenant_id, days_ahead=7)
    later = [p for _, p in events_of(ledger, tenant_id, "points.expiring_soon")]
    assert len(later) == 2
    # The second names only the new date; the spend was taken from the soonest lot.
    assert [e["date"] for e in later[1]["expiring"]] == ["2026-03-30"]
    assert later[1]["amount"] == "30"
    # A different N is another reminder of the dates it covers.
    counts = points.remind_expiring(ledger, tenant_id, days_ahead=14)
    assert counts == {"holders_reminded": 1, "expiry_dates_reminded": 2}
    last = events_of(ledger, tenant_id, "points.expiring_soon")[-1][1]
    assert last["amount"] == "120"
    assert last["days_ahead"] == 14


def test_the_days_ahead_is_checked(ledger: Ledger, tenant_id: str) -> None:
    for bad in (0, 367, True):
        with pytest.raises(Exception, match="days_ahead"):
            points.remind_expiring(ledger, tenant_id, days_ahead=bad)


def test_the_worker_step_reads_the_reminder_days_setting(
    ledger: Ledger, tenant_id: str, clock: FakeClock, lumis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _earn(ledger, tenant_id, "u1", "100", "e1")
    clock.advance(days=6)  # expires in 4 days
    monkeypatch.setenv("REWARDLEDGER_POINTS_REMINDER_DAYS", "3")
    worker = Worker(ledger, [STEPS["points_reminders"]], Schedule(), tenant_ids=[tenant_id])
    assert [run.counts for run in worker.run_due()] == [
        {"holders_reminded": 0, "expiry_dates_reminded": 0}
    ]
    assert STEPS["points_reminders"].interval_seconds == 86_400
    clock.advance(days=1)
    monkeypatch.setenv("REWARDLEDGER_POINTS_REMINDER_DAYS", "5")
    assert [run.counts for run in worker.run_due()] == [
        {"holders_reminded": 1, "expiry_dates_reminded": 1}
    ]
    assert events_of(ledger, tenant_id, "points.expiring_soon")[0][1]["days_ahead"] == 5


# Budget periods -----------------------------------------------------------------------------


def _spring(ledger: Ledger, tenant_id: str) -> str:
    ledger.create_asset(tenant_id, "USD", scale=2)
    budgets.create_budget(
        ledger, tenant_id, "spring", currency="USD", hard_cap="1000.00", soft_cap="800.00"
    )
    budgets.topup(ledger, tenant_id, "spring", amount="600.00", currency="USD", idempotency_key="f")
    budgets.reserve(ledger, tenant_id, "spring", reference="a", amount="300.00", currency="USD")
    budgets.charge(ledger, tenant_id, "spring", "a", amount="250.00")
    budgets.reserve(ledger, tenant_id, "spring", reference="b", amount="40.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "spring", reference="c", amount="10.00", currency="USD")
    budgets.release(ledger, tenant_id, "spring", "c")
    return "spring"


def _expected_close(figures: budgets.Utilization, following: str) -> dict[str, str]:
    names = ("hard_cap", "soft_cap", "funded", "rolled_in", "reserved", "charged", "released")
    expected = {name: getattr(figures, name) for name in names}
    expected.update(used=figures.used, available=figures.available)
    return {"period": figures.period, "next_period": following, "currency": "USD", **expected}


def test_the_calendar_reset_closes_the_old_period_with_its_figures_before_opening_the_next(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    budget = _spring(ledger, tenant_id)
    march = budgets.utilization(ledger, tenant_id, budget)
    assert march.period == "2026-03"
    assert march.reserved == "40.00"
    clock.advance(days=20)  # into April
    assert budgets.run_due(ledger, tenant_id)["budget_periods_opened"] == 1
    closed = events_of(ledger, tenant_id, "budget.period_closed")
    assert closed == [(budget, _expected_close(march, "2026-04"))]
    assert closed[0][1]["charged"] == "250.00"
    assert closed[0][1]["released"] == "60.00"
    order = [(e.event_type, (e.payload or {}).get("period")) for e in feed(ledger, tenant_id)]
    closing = order.index(("budget.period_closed", "2026-03"))
    assert order.index(("budget.period_opened", "2026-04")) > closing
    # Safe twice: the period is closed once.
    budgets.run_due(ledger, tenant_id)
    assert len(events_of(ledger, tenant_id, "budget.period_closed")) == 1


def test_a_reset_on_demand_closes_the_current_period_and_keeps_budget_reset(
    ledger: Ledger, tenant_id: str
) -> None:
    budget = _spring(ledger, tenant_id)
    march = budgets.utilization(ledger, tenant_id, budget)
    budgets.reset_budget(ledger, tenant_id, budget, idempotency_key="r1")
    budgets.reset_budget(ledger, tenant_id, budget, idempotency_key="r1")  # a replay
    assert events_of(ledger, tenant_id, "budget.period_closed") == [
        (budget, _expected_close(march, "2026-03.r1"))
    ]
    reset = events_of(ledger, tenant_id, "budget.reset")
    assert reset == [(budget, {"period": "2026-03.r1", "previous": "2026-03"})]


# The daily reconciliation -------------------------------------------------------------------


def test_a_clean_daily_reconciliation_writes_its_result(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    points.configure(ledger, tenant_id, "LUMIS")
    _earn(ledger, tenant_id, "u1", "100", "e1")
    budgets.create_budget(ledger, tenant_id, "spring", currency="USD", hard_cap="100.00")
    worker = Worker(ledger, [STEPS["reconciliation"]], Schedule(), tenant_ids=[tenant_id])
    (run,) = worker.run_due()
    assert run.counts is not None
    assert run.counts["ledger_discrepancies"] == 0
    assert run.counts["holders_checked"] == 1
    (written,) = events_of(ledger, tenant_id, "reconciliation.completed")
    payload = written[1]
    assert_in_catalogue("reconciliation.completed", payload)
    assert payload["status"] == "clean"
    assert payload["mismatch_count"] == 0
    assert payload["ok_count"] == 3
    assert payload["checked"] == ["ledger", "budgets", "points"]
    assert payload["day"] == "2026-03-15"
    assert payload["checks"]["points"] == {"checked": 1, "mismatches": 0}
    assert payload["checks"]["budgets"] == {"checked": 1, "mismatches": 0}
    assert payload["checks"]["ledger"]["checked"] == run.counts["accounts_checked"] > 0
    assert events_of(ledger, tenant_id, "reconciliation.mismatch_found") == []
    assert STEPS["reconciliation"].interval_seconds == 86_400


def test_a_mismatch_is_reported_with_its_samples(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    with owner_engine(ledger).begin() as connection:
        connection.execute(
            text(
                "UPDATE accounts SET credits_posted = credits_posted + 500 "
                "WHERE tenant_id = :t AND account_id = :a"
            ),
            {"t": tenant_id, "a": p.wallets[0]},
        )
    run = reconciliation.reconcile_daily(ledger, tenant_id)
    assert run.status == "mismatch"
    (completed,) = events_of(ledger, tenant_id, "reconciliation.completed")
    assert completed[1]["status"] == "mismatch"
    assert completed[1]["mismatch_count"] == 1
    assert completed[1]["checks"]["ledger"]["mismatches"] >= 2
    (found,) = events_of(ledger, tenant_id, "reconciliation.mismatch_found")
    assert found[0] == completed[0] == run.run_id
    assert_in_catalogue("reconciliation.mismatch_found", found[1])
    assert list(found[1]["checks"]) == ["ledger"]
    subjects = {(s["check"], s["subject"], s.get("field")) for s in found[1]["samples"]}
    assert ("ledger", f"account_matches_journal/{p.wallets[0]}", "credits_posted") in subjects


def test_a_points_holder_out_of_step_with_its_rows_is_a_points_mismatch_too(
    ledger: Ledger, tenant_id: str
) -> None:
    points.configure(ledger, tenant_id, "LUMIS")
    _earn(ledger, tenant_id, "u1", "100", "e1")
    _earn(ledger, tenant_id, "u2", "100", "e2")
    with owner_engine(ledger).begin() as connection:
        connection.execute(
            text(
                "UPDATE accounts SET credits_posted = credits_posted + 7 "
                "WHERE tenant_id = :t AND account_id = :a"
            ),
            {"t": tenant_id, "a": holder_account_id("LUMIS", "u2")},
        )
    run = reconciliation.reconcile_daily(ledger, tenant_id)
    assert run.counts()["holders_checked"] == 2
    assert run.counts()["holder_mismatches"] == 1
    (found,) = events_of(ledger, tenant_id, "reconciliation.mismatch_found")
    assert list(found[1]["checks"]) == ["ledger", "points"]
    assert {"check": "points", "subject": "LUMIS/u2", "field": "balance"}.items() <= next(
        s for s in found[1]["samples"] if s["check"] == "points"
    ).items()
