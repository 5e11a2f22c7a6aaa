"""Two ``Ledger`` objects on one database, as two processes (two server workers, or the CLI
beside a server): what one of them configures, the other uses at once.

Each test first has ``other`` serve the tenant (so that whatever it keeps in memory about the
tenant is loaded), then configures something through ``ledger`` and uses it through
``other``. Before the asset cache re-read on a miss, these failed with ``not_found`` for an
asset that exists, or with a ``KeyError`` from a service.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import budgets, cashback, cycles, debt, points, redemptions
from tests.builders import FakeClock, new_id


@pytest.fixture
def other(db_url: str, clock: FakeClock) -> Iterator[Ledger]:
    """A second ledger on the same database: another process."""
    with Ledger.open(db_url, clock=clock, migrate=False) as opened:
        yield opened


@pytest.fixture
def served(other: Ledger, tenant_id: str) -> str:
    """The tenant, after ``other`` has served it once (its assets are known to ``other``)."""
    assert other.assets(tenant_id) == {}
    return tenant_id


def test_an_asset_created_by_one_process_is_used_at_once_by_another(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    ledger.create_asset(served, "EUR", scale=2)
    ledger.create_account(served, "a", asset="EUR")
    ledger.create_account(served, "b", asset="EUR")
    moved = other.transfer(served, TransferRequest(new_id(), "a", "b", "EUR", "1.50"))
    assert moved.amount_minor == 150
    results = other.transfer_batch(
        served, [TransferRequest(new_id(), "a", "b", "EUR", "0.25") for _ in range(3)]
    )
    assert [r.ok for r in results] == [True, True, True]
    assert other.balance(served, "b").posted.minor == 225
    assert "EUR" in other.assets(served)
    assert other.verify(served).ok


def test_a_pending_transfer_in_an_asset_the_other_process_never_saw_can_be_posted(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    ledger.create_asset(served, "GBP", scale=2)
    ledger.create_account(served, "a", asset="GBP")
    ledger.create_account(served, "b", asset="GBP")
    ledger.transfer(served, TransferRequest("hold", "a", "b", "GBP", "5.00", pending=True))
    posted = other.post_pending(served, "hold", id="hold.post", amount="2.00")
    assert posted.amount_minor == 200
    assert other.balance(served, "b").posted.minor == 200


def test_points_configured_by_one_process_earn_spend_and_redeem_in_another(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    points.configure(ledger, served, "STARS", scale=1)
    points.earn(ledger, served, "u1", "10.5", dtype="invoice", reference=new_id(), asset="STARS")
    made = redemptions.create(
        ledger, served, "u1", offer_id="o1", cost="2.0", reference=new_id(), asset="STARS"
    )
    # ``other`` has never read STARS: the confirmation is its first use of the asset.
    confirmed = redemptions.confirm(other, served, made.code, actor="till")
    assert confirmed.state.value == "confirmed"
    earned = points.earn(
        other, served, "u1", "1.5", dtype="invoice", reference=new_id(), asset="STARS"
    )
    assert str(earned.quantity) == "1.5"
    spent = points.spend(
        other, served, "u1", "0.5", dtype="points", reference=new_id(), asset="STARS"
    )
    assert str(spent.quantity) == "-0.5"
    assert str(points.balance(other, served, "u1", asset="STARS").available) == "9.5"
    assert points.validate(other, served) == []


def test_a_reason_added_by_one_process_is_known_at_once_to_another(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    points.configure(ledger, served)
    points.earn(other, served, "u1", "5", dtype="invoice", reference=new_id())
    points.add_reason(ledger, served, Reason(Direction.EARN, "birthday"))
    moved = points.earn(other, served, "u1", "7", dtype="birthday", reference=new_id())
    assert moved.dtype == "birthday"


def test_an_expiry_policy_changed_by_one_process_applies_at_once_in_another(
    ledger: Ledger, other: Ledger, served: str, clock: FakeClock
) -> None:
    points.configure(ledger, served)
    points.earn(other, served, "u1", "5", dtype="invoice", reference=new_id())
    assert points.expiring(other, served, "u1") == []
    points.update_asset(ledger, served, "LUMIS", ExpiryPolicy(ExpiryKind.AFTER, days=30))
    points.earn(other, served, "u1", "7", dtype="invoice", reference=new_id())
    due = points.expiring(other, served, "u1")
    assert [(moment, str(amount)) for moment, amount in due] == [
        (clock.now + timedelta(days=30), "7")
    ]


def test_a_budget_created_by_one_process_is_funded_reserved_charged_in_another(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    budgets.create_budget(ledger, served, "promo", currency="USD", hard_cap="100.00")
    budgets.topup(other, served, "promo", amount="50.00", currency="USD", idempotency_key="t1")
    budgets.reserve(other, served, "promo", reference="r1", amount="10.00", currency="USD")
    budgets.reserve(other, served, "promo", reference="r2", amount="5.00", currency="USD")
    charged = budgets.charge(other, served, "promo", "r1", amount="4.00")
    assert charged.state == "charged"
    released = budgets.release(other, served, "promo", "r2")
    assert released.state == "released"
    assert budgets.reconcile(other, served, "promo").discrepancies == []


def test_a_budget_in_a_built_in_currency_another_process_created_is_found(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    budgets.create_budget(ledger, served, "first", currency="ZWG", hard_cap="10.00")
    created = budgets.create_budget(other, served, "second", currency="ZWG", hard_cap="10.00")
    assert created.currency == "ZWG"


def test_cycle_programmes_set_by_one_process_are_used_at_once_by_another(
    ledger: Ledger, other: Ledger, served: str
) -> None:
    ledger.create_asset(served, "USD", scale=2)
    cashback.set_program(ledger, served, currency="USD", minimum_spend="0", default_cap="50.00")
    debt.set_program(ledger, served, currency="USD")
    cycles.set_refresh_mode(ledger, served, "job")
    accrued = cashback.accrue(
        other, served, cashback.Accrual(new_id("cb"), "member-1", "100.00", "5.00")
    )
    assert accrued.movement.cashback_minor == 500
    owed = debt.record(other, served, debt.DebtRequest(new_id("d"), "p1", "charge", "20.00"))
    assert owed.movement.amount_minor == 2000
    assert cycles.refresh_mode(other, served).value == "job"
    cycles.set_refresh_mode(ledger, served, "inline")
    assert cycles.refresh_mode(other, served).value == "inline"
