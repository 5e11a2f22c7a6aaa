"""The demo tenant shows every feature after one seed, on both engines, and a second seed
writes nothing new."""

from __future__ import annotations

import secrets

import pytest

from rewardledger.domain.cycles import CycleStatus, DebtStatus, Eligibility, LedgerFilter
from rewardledger.domain.errors import AlreadyExists
from rewardledger.domain.points import ExpiryPolicy, RedemptionState
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, cycles, demo, demo_programme, points, redemptions

TINY = demo.DemoSize(members=3, days=2)


@pytest.fixture
def demo_tenant(ledger: Ledger) -> str:
    tenant = f"demo{secrets.token_hex(5)}"
    demo.seed(ledger, TINY, tenant_id=tenant)
    return tenant


def test_the_budget_is_past_its_soft_cap_with_its_alerts(ledger: Ledger, demo_tenant: str) -> None:
    figures = budgets.utilization(ledger, demo_tenant, demo_programme.BUDGET)
    assert (figures.funded, figures.charged, figures.reserved) == ("1000.00", "820.00", "60.00")
    assert figures.used == "880.00"
    assert figures.soft_cap == demo_programme.BUDGET_SOFT_CAP
    assert figures.soft_cap_exceeded is True
    kinds = {alert.kind for alert in budgets.alerts(ledger, demo_tenant)}
    assert "soft_cap_exceeded" in kinds
    assert len(kinds) >= 2


def test_points_holders_have_lots_an_expiry_forecast_and_redemptions_with_codes(
    ledger: Ledger, demo_tenant: str
) -> None:
    for holder, earns in demo_programme.POINTS_HOLDERS:
        forecast = points.expiring(ledger, demo_tenant, holder)
        assert forecast, holder
        assert all(when > ledger.clock() for when, _ in forecast)
        spent = 90 if holder == "member-00002" else 0
        redeemed = sum(int(r[3]) for r in demo_programme.REDEMPTIONS if r[1] == holder)
        balance = points.balance(ledger, demo_tenant, holder).balance
        assert str(balance) == str(sum(int(e) for e in earns) - spent - redeemed)
    states = set()
    for reference, holder, _offer, _cost, _confirmed in demo_programme.REDEMPTIONS:
        made = redemptions.get(ledger, demo_tenant, reference)
        assert made.holder_id == holder
        assert redemptions.qr_svg(made.code).startswith(b"<?xml")
        assert redemptions.qr_png(made.code).startswith(b"\x89PNG")
        states.add(made.state)
    assert states == {RedemptionState.PENDING, RedemptionState.CONFIRMED}


def test_cashback_cycles_one_at_its_cap_and_one_past_it_by_an_override(
    ledger: Ledger, demo_tenant: str
) -> None:
    rows = {
        row.account_id: row
        for row, _ in cycles.list_cashback_ledger(ledger, demo_tenant, LedgerFilter()).rows
    }
    at_cap = rows[demo_programme.CASHBACK_AT_CAP]
    assert (at_cap.total_cashback_minor, at_cap.remaining_budget_minor) == (2000, 0)
    assert at_cap.eligibility is Eligibility.REACHED_CAP
    overridden = rows[demo_programme.CASHBACK_OVERRIDE]
    assert overridden.remaining_budget_minor == -500
    assert overridden.notes == "override took the cycle 5.00 past its cap"
    assert {row.status for row in rows.values()} == {CycleStatus.OPEN}


def test_debt_cycles_open_partial_repaid_and_overdue_refreshed(
    ledger: Ledger, demo_tenant: str
) -> None:
    statuses = {
        row.person_id: row.status
        for row, _ in cycles.list_debt_ledger(ledger, demo_tenant, LedgerFilter()).rows
    }
    assert statuses == {
        demo_programme.DEBT_OPEN: DebtStatus.OPEN,
        demo_programme.DEBT_PARTIAL: DebtStatus.PARTIAL,
        demo_programme.DEBT_REPAID: DebtStatus.REPAID,
        demo_programme.DEBT_OVERDUE: DebtStatus.OVERDUE,
    }
    assert cycles.count_dirty(ledger, demo_tenant) == 0


def test_a_second_seed_writes_nothing_and_the_ledger_verifies(
    ledger: Ledger, demo_tenant: str
) -> None:
    before = ledger.count_accounts(demo_tenant), len(budgets.alerts(ledger, demo_tenant))
    assert demo_programme.complete(ledger, demo_tenant)
    assert demo.seed(ledger, TINY, tenant_id=demo_tenant) == 0
    assert demo_programme.seed_programme(ledger, demo_tenant) is False
    assert (ledger.count_accounts(demo_tenant), len(budgets.alerts(ledger, demo_tenant))) == before
    assert ledger.verify(demo_tenant).ok
    assert points.validate(ledger, demo_tenant) == []


def test_points_configure_takes_the_demo_asset_as_it_is(ledger: Ledger, demo_tenant: str) -> None:
    points.configure(ledger, demo_tenant, demo_programme.POINTS_ASSET)  # named "Lumis points"
    assert ledger.get_asset(demo_tenant, "LUMIS").name == "Lumis points"


def test_points_configure_on_the_demo_keeps_its_expiry_and_names_the_fix_of_a_difference(
    ledger: Ledger, demo_tenant: str
) -> None:
    before = points.points_asset(ledger, demo_tenant, "LUMIS")
    kept = points.configure(ledger, demo_tenant, "LUMIS", scale=0, expiry=before.expiry)
    assert (kept.expiry, kept.created) == (before.expiry, False)
    assert points.configure(ledger, demo_tenant, "LUMIS").expiry == before.expiry
    with pytest.raises(AlreadyExists) as refused:
        points.configure(ledger, demo_tenant, "LUMIS", expiry=ExpiryPolicy())
    assert "you asked that they never expire" in str(refused.value)
    assert f"PUT /v1/tenants/{demo_tenant}/points/assets/LUMIS" in str(refused.value)
    with pytest.raises(AlreadyExists, match="scale never changes"):
        points.configure(ledger, demo_tenant, "LUMIS", scale=2)


@pytest.mark.parametrize("rows_max", [2, 1000])
def test_the_debt_chart_sums_the_first_rows_as_the_rows_themselves_add_up(
    ledger: Ledger, demo_tenant: str, rows_max: int
) -> None:
    expected: dict[str, dict[str, int]] = {}
    counted = 0
    for row, _ in cycles.every_debt_row(ledger, demo_tenant, LedgerFilter()):
        if counted == rows_max:
            break
        parts = expected.setdefault(row.cycle_tag, {})
        parts[row.status.value] = parts.get(row.status.value, 0) + row.net_debt_minor
        counted += 1
    assert counted >= 2
    assert cycles.debt_by_status(ledger, demo_tenant, rows_max) == (expected, counted)
