"""The budget seeds' meanings (seeds 002 and 003), each in the seed's own words and numbers,
on SQLite and PostgreSQL: what ported code expects of alerts, ledger entries, funding,
period resets and the fix of a discrepancy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rewardledger.domain.errors import (
    AlreadyExists,
    HardCapExceeded,
    InsufficientFunds,
    ValidationError,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets
from tests.builders import FakeClock
from tests.conftest import owner_engine


def _kinds(ledger: Ledger, tenant_id: str) -> list[str]:
    return sorted(a.kind for a in budgets.alerts(ledger, tenant_id))


def test_the_soft_cap_alert_fires_with_default_settings(ledger: Ledger, tenant_id: str) -> None:
    # Seed 002: "Configurable alert thresholds (80% soft, 95% hard)"; seed 003:
    #   newBalance := budget.Balance + amount
    #   if newBalance > budget.SoftCap { s.alertSoftCapExceeded(...) }
    policy = budgets.create_budget(ledger, tenant_id, "b", currency="USD", hard_cap="10000.00")
    assert policy.soft_cap_minor == 800_000  # 80 % of the hard cap, not the hard cap itself
    budgets.topup(ledger, tenant_id, "b", amount="10000.00", currency="USD", idempotency_key="k")
    budgets.reserve(ledger, tenant_id, "b", reference="r1", amount="8000.00", currency="USD")
    # 8,000.00 is not above the soft cap of 8,000.00 (the seed's ">"), but reaches 80 %.
    assert _kinds(ledger, tenant_id) == ["hard_cap_approaching"]
    budgets.reserve(ledger, tenant_id, "b", reference="r2", amount="0.01", currency="USD")
    assert _kinds(ledger, tenant_id) == ["hard_cap_approaching", "soft_cap_exceeded"]
    assert budgets.utilization(ledger, tenant_id, "b").soft_cap_exceeded


def test_threshold_alerts_fire_once_per_crossing(ledger: Ledger, tenant_id: str) -> None:
    # Seed 002's CheckSoftCapAlert: "Alert when balance exceeds soft cap", "Triggered on
    # reservation completion". Staying above adds nothing; release below, cross again: alert.
    budgets.create_budget(
        ledger, tenant_id, "b", currency="USD", hard_cap="10000.00", soft_cap="7000.00"
    )
    budgets.topup(ledger, tenant_id, "b", amount="10000.00", currency="USD", idempotency_key="k")
    budgets.reserve(ledger, tenant_id, "b", reference="r1", amount="7500.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "b", reference="r2", amount="100.00", currency="USD")
    assert _kinds(ledger, tenant_id) == ["soft_cap_exceeded"]
    budgets.release(ledger, tenant_id, "b", "r1")  # used 100.00: below the soft cap again
    budgets.reserve(ledger, tenant_id, "b", reference="r3", amount="7000.00", currency="USD")
    assert _kinds(ledger, tenant_id) == ["soft_cap_exceeded", "soft_cap_exceeded"]
    # A replay of the crossing reserve writes no third alert.
    budgets.reserve(ledger, tenant_id, "b", reference="r3", amount="7000.00", currency="USD")
    assert len(budgets.alerts(ledger, tenant_id)) == 2


def test_ledger_entries_are_newest_first_within_a_date_range(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    # Seed 002, GetLedgerEntries: "Date range filtering", "Pagination support",
    # "Sorted by created_at DESC".
    clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    budgets.create_budget(ledger, tenant_id, "b", currency="USD", hard_cap="1000.00")
    budgets.topup(ledger, tenant_id, "b", amount="500.00", currency="USD", idempotency_key="k")
    for day, ref in ((3, "r3"), (4, "r4"), (5, "r5")):
        clock.set(datetime(2026, 3, day, 15, 0, tzinfo=UTC))
        budgets.reserve(ledger, tenant_id, "b", reference=ref, amount="1.00", currency="USD")
    every = [e.transfer_id for e in budgets.entries(ledger, tenant_id, "b").entries]
    assert every == ["budget:b:res:r5", "budget:b:res:r4", "budget:b:res:r3", "budget:b:fund:k"]
    ranged = budgets.entries(ledger, tenant_id, "b", date_from="2026-03-03", date_to="2026-03-04")
    assert [e.transfer_id for e in ranged.entries] == ["budget:b:res:r4", "budget:b:res:r3"]
    first = budgets.entries(ledger, tenant_id, "b", limit=1, date_from="2026-03-03")
    second = budgets.entries(
        ledger, tenant_id, "b", limit=2, date_from="2026-03-03", cursor=first.next_cursor
    )
    assert [e.transfer_id for e in first.entries + second.entries] == every[:3]
    assert budgets.entries(ledger, tenant_id, "b", date_to="2026-03-02").entries[0].entry_type == (
        "fund"
    )
    with pytest.raises(ValidationError):
        budgets.entries(ledger, tenant_id, "b", date_from="2026-03-05", date_to="2026-03-04")


def _journal_sums_to_zero(ledger: Ledger, tenant_id: str) -> None:
    """Invariant 1: every account of the asset, summed, is zero."""
    engine = owner_engine(ledger)
    with engine.connect() as connection:
        total = connection.execute(
            text(
                "SELECT COALESCE(SUM(credits_posted - debits_posted), 0) FROM accounts "
                "WHERE tenant_id = :t AND asset_code = 'USD'"
            ),
            {"t": tenant_id},
        ).scalar_one()
    assert total == 0


def test_an_on_demand_budget_is_capped_but_not_pre_funded(ledger: Ledger, tenant_id: str) -> None:
    # Seed 003: "Topup doesn't affect balance (balance is reserved/charged amounts)";
    #   newBalance := budget.Balance + amount
    #   if newBalance > budget.HardCap { return errors.New("hard cap exceeded") }
    # Seed 002: "if err == ErrInsufficientFunds { // Handle budget exhaustion" (the hard cap).
    budgets.create_budget(
        ledger, tenant_id, "b", currency="USD", hard_cap="10000.00", funding="on_demand"
    )
    budgets.reserve(ledger, tenant_id, "b", reference="iss-1", amount="6000.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "b", reference="iss-2", amount="2000.00", currency="USD")
    budgets.charge(ledger, tenant_id, "b", "iss-1", amount="5500.00")  # 500.00 released
    u = budgets.utilization(ledger, tenant_id, "b")
    assert u.funding == "on_demand"
    # The seed's balance is what is reserved or charged: 2,000.00 + 5,500.00.
    assert (u.seed_balance, u.used, u.seed_available) == ("7500.00", "7500.00", "2500.00")
    assert (u.total_reserved, u.total_charged, u.total_released) == (
        "8000.00",
        "5500.00",
        "500.00",
    )
    # Drawn from the funding account as the reserves needed it: 8,000.00 in two fund rows.
    assert u.total_funded == "8000.00"
    drawn = [e for e in budgets.entries(ledger, tenant_id, "b").entries if e.entry_type == "fund"]
    assert sorted(e.transfer_id for e in drawn) == ["budget:b:draw:iss-1", "budget:b:draw:iss-2"]
    # The 500.00 released stays in the period: the next reserve draws only what it lacks.
    budgets.reserve(ledger, tenant_id, "b", reference="iss-3", amount="700.00", currency="USD")
    assert budgets.utilization(ledger, tenant_id, "b").total_funded == "8200.00"
    with pytest.raises(HardCapExceeded):
        budgets.reserve(ledger, tenant_id, "b", reference="iss-4", amount="1800.01", currency="USD")
    assert budgets.reconcile(ledger, tenant_id, "b").clean
    # Invariants 1 to 3: the funding account went negative, the period's account did not.
    assert ledger.verify(tenant_id).ok
    for account, posted in (("budgets:funding:USD", -820_000), ("budget:b:2026-03", 270_000)):
        totals = ledger.get_account(tenant_id, account).balances
        assert totals.credits_posted - totals.debits_posted == posted
    _journal_sums_to_zero(ledger, tenant_id)


def test_an_on_demand_budget_remaining_is_what_the_hard_cap_still_allows(
    ledger: Ledger, tenant_id: str
) -> None:
    # Nothing is available before a reserve draws it, yet the next reserve may take up to
    # the hard cap: remaining says so, as the seed's cap check does.
    budgets.create_budget(
        ledger, tenant_id, "b", currency="USD", hard_cap="500.00", funding="on_demand"
    )
    budgets.reserve(ledger, tenant_id, "b", reference="iss-1", amount="450.00", currency="USD")
    u = budgets.utilization(ledger, tenant_id, "b")
    assert (u.available, u.remaining, u.seed_available) == ("0.00", "50.00", "50.00")
    budgets.reserve(ledger, tenant_id, "b", reference="iss-2", amount="50.00", currency="USD")
    assert budgets.utilization(ledger, tenant_id, "b").remaining == "0.00"


def test_a_prefunded_budget_still_needs_a_top_up(ledger: Ledger, tenant_id: str) -> None:
    policy = budgets.create_budget(ledger, tenant_id, "b", currency="USD", hard_cap="100.00")
    assert policy.funding.value == "prefunded"
    with pytest.raises(InsufficientFunds):
        budgets.reserve(ledger, tenant_id, "b", reference="r", amount="1.00", currency="USD")
    with pytest.raises(ValidationError):
        budgets.create_budget(ledger, tenant_id, "c", currency="USD", hard_cap="1", funding="x")
    with pytest.raises(AlreadyExists):
        budgets.create_budget(
            ledger, tenant_id, "b", currency="USD", hard_cap="100.00", funding="on_demand"
        )


def test_reset_schedule_and_on_demand_reset(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    # Seed 002: "GetNextResetDate: Period-specific calculations, Returns nil for rolling
    # budgets"; "ShouldResetBudget: Period-aware logic"; "ResetBudget: Reset budget balance
    # to zero, Optional rollover entry creation".
    clock.set(datetime(2026, 3, 15, 17, 0, tzinfo=UTC))
    budgets.create_budget(
        ledger, tenant_id, "m", currency="USD", hard_cap="1000.00", funding="on_demand"
    )
    budgets.create_budget(
        ledger, tenant_id, "r", currency="USD", hard_cap="1000.00", period="rolling"
    )
    budgets.topup(ledger, tenant_id, "r", amount="300.00", currency="USD", idempotency_key="k")
    budgets.reserve(ledger, tenant_id, "m", reference="a", amount="400.00", currency="USD")
    schedule = budgets.reset_schedule(ledger, tenant_id, "m")
    assert schedule.next_reset_at == datetime(2026, 4, 1, 5, 0, tzinfo=UTC)  # Panama midnight
    assert (schedule.current_period, schedule.should_reset) == ("2026-03", False)
    assert budgets.reset_schedule(ledger, tenant_id, "r").next_reset_at is None
    clock.set(datetime(2026, 4, 2, 17, 0, tzinfo=UTC))
    assert budgets.reset_schedule(ledger, tenant_id, "m").should_reset

    done = budgets.reset_budget(ledger, tenant_id, "r", idempotency_key="reset-1", rollover=True)
    assert (done.period, done.previous_period, done.rolled_in) == (
        "rolling.r1",
        "rolling",
        "300.00",
    )
    assert budgets.reset_budget(ledger, tenant_id, "r", idempotency_key="reset-1").replayed
    budgets.reserve(ledger, tenant_id, "r", reference="x", amount="50.00", currency="USD")
    u = budgets.utilization(ledger, tenant_id, "r")
    assert (u.period, u.used, u.available) == ("rolling.r1", "50.00", "250.00")
    assert budgets.utilization(ledger, tenant_id, "r", period="rolling").used == "0.00"

    # ResetMonthlyBudgetsForTenant: "Filters by period type", "Summary statistics".
    summary = budgets.reset_budgets(ledger, tenant_id, "monthly", idempotency_key="april")
    assert (summary.budgets_reset, summary.budgets_failed) == (1, 0)
    assert summary.results[0].period == "2026-04"  # the calendar's reset, done now
    again = budgets.reset_budgets(ledger, tenant_id, "monthly", idempotency_key="april-2")
    assert again.results[0].period == "2026-04.r1"
    assert budgets.utilization(ledger, tenant_id, "m").period == "2026-04.r1"
    assert budgets.reconcile(ledger, tenant_id, "m").clean
    assert budgets.reconcile(ledger, tenant_id, "r").clean
    with pytest.raises(ValidationError):
        budgets.reset_budgets(ledger, tenant_id, "weekly", idempotency_key="w")


def test_fix_discrepancy_recomputes_a_tampered_period_total(ledger: Ledger, tenant_id: str) -> None:
    # Seed 002, FixDiscrepancy: "Manually correct balance discrepancies", "Updates balance",
    # "Requires manual review notes", "Logs correction with warning level".
    budgets.create_budget(ledger, tenant_id, "b", currency="USD", hard_cap="1000.00")
    budgets.topup(ledger, tenant_id, "b", amount="500.00", currency="USD", idempotency_key="k")
    budgets.reserve(ledger, tenant_id, "b", reference="a", amount="100.00", currency="USD")
    engine = owner_engine(ledger)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE budget_periods SET funded_minor = funded_minor + 1, "
                "reserved_total_minor = 7 WHERE tenant_id = :t AND budget_id = 'b'"
            ),
            {"t": tenant_id},
        )
    found = budgets.reconcile(ledger, tenant_id, "b").discrepancies
    assert [d.figure for d in found] == ["funded", "reserved_total"]
    fix = budgets.fix_discrepancies(
        ledger, tenant_id, "b", note="tampered in ticket 42", actor="ops", idempotency_key="f1"
    )
    assert [(f.figure, f.before, f.after) for f in fix.fixed] == [
        ("funded", "500.01", "500.00"),
        ("reserved_total", "0.07", "100.00"),
    ]
    assert (fix.remaining, fix.replayed) == ([], False)
    assert budgets.reconcile(ledger, tenant_id, "b").clean
    assert budgets.utilization(ledger, tenant_id, "b").funded == "500.00"
    replay = budgets.fix_discrepancies(
        ledger, tenant_id, "b", note="tampered in ticket 42", actor="ops", idempotency_key="f1"
    )
    assert replay.replayed
    assert [f.figure for f in replay.fixed] == ["funded", "reserved_total"]
    warned = [a for a in budgets.alerts(ledger, tenant_id) if a.kind == "discrepancy_fixed"]
    assert [(a.level, a.details["note"]) for a in warned] == [("warning", "tampered in ticket 42")]
    with pytest.raises(ValidationError):
        budgets.fix_discrepancies(
            ledger, tenant_id, "b", note=" ", actor="ops", idempotency_key="f2"
        )
    # The audit trail is append-only.
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(text("DELETE FROM budget_fixes"))
