"""Accounts a service opens are managed by it: raw core writes onto them are refused with
``managed_account`` (naming the service call to use); the service's own postings, and the
expiry of its timed-out holds, still go through."""

from __future__ import annotations

import pytest

from rewardledger.domain.errors import AlreadyExists, ManagedAccount, ValidationError
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, cashback, debt, points
from tests.builders import FakeClock, new_id
from tests.services.cycles_support import programmes


def _refused(ledger: Ledger, tenant_id: str, request: TransferRequest, service: str) -> str:
    with pytest.raises(ManagedAccount) as refused:
        ledger.transfer(tenant_id, request)
    assert refused.value.context["managed_by"] == service
    return refused.value.message


def test_points_wallets_and_issuance_refuse_raw_transfers(ledger: Ledger, tenant_id: str) -> None:
    points.configure(ledger, tenant_id)
    points.earn(ledger, tenant_id, "u1", "50", dtype="invoice", reference="e1")
    ledger.create_account(tenant_id, "pool", asset="LUMIS")
    message = _refused(
        ledger,
        tenant_id,
        TransferRequest(new_id(), "pool", "pts:LUMIS:u1", "LUMIS", "10"),
        "points",
    )
    assert "'pts:LUMIS:u1' is managed by points" in message
    assert "points earn or spend" in message
    _refused(
        ledger,
        tenant_id,
        TransferRequest(new_id(), "pts:LUMIS:@issued", "pool", "LUMIS", "10"),
        "points",
    )
    results = ledger.transfer_batch(
        tenant_id, [TransferRequest(new_id(), "pool", "pts:LUMIS:u1", "LUMIS", "1")], atomic=False
    )
    assert results[0].error is not None
    assert results[0].error.code == "managed_account"
    assert points.validate(ledger, tenant_id) == []
    assert str(points.balance(ledger, tenant_id, "u1").available) == "50"


def test_budget_accounts_refuse_raw_writes_but_the_budget_calls_and_expiry_work(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    budgets.create_budget(ledger, tenant_id, "promo", currency="USD", hard_cap="100.00")
    budgets.topup(ledger, tenant_id, "promo", amount="50.00", currency="USD", idempotency_key="t")
    held = budgets.reserve(
        ledger, tenant_id, "promo", reference="r1", amount="10.00", currency="USD"
    )
    ledger.create_account(tenant_id, "shop", asset="USD")
    period = budgets.period_account("promo", held.period)
    message = _refused(
        ledger, tenant_id, TransferRequest(new_id(), period, "shop", "USD", "1.00"), "budgets"
    )
    assert "budget calls" in message
    for account in (budgets.funding_account("USD"), budgets.issued_account("USD")):
        _refused(
            ledger, tenant_id, TransferRequest(new_id(), "shop", account, "USD", "1.00"), "budgets"
        )
    with pytest.raises(ManagedAccount):
        ledger.post_pending(tenant_id, held.transfer_id)
    with pytest.raises(ManagedAccount):
        ledger.void_pending(tenant_id, held.transfer_id)
    assert budgets.charge(ledger, tenant_id, "promo", "r1", amount="4.00").state == "charged"
    budgets.reserve(
        ledger,
        tenant_id,
        "promo",
        reference="r2",
        amount="1.00",
        currency="USD",
        timeout_seconds=60,
    )
    clock.advance(seconds=61)
    assert ledger.expire_due(tenant_id) == 1
    assert budgets.get_reservation(ledger, tenant_id, "promo", "r2").state == "expired"
    assert budgets.reconcile(ledger, tenant_id, "promo").clean
    assert ledger.verify(tenant_id).ok


def test_debt_and_cashback_accounts_refuse_raw_transfers_a_members_own_account_does_not(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id, minimum_spend="0")
    debt.record(ledger, tenant_id, debt.DebtRequest(new_id("d"), "p1", "charge", "20.00"))
    cashback.accrue(ledger, tenant_id, cashback.Accrual(new_id("cb"), "member-1", "10.00", "1.00"))
    ledger.create_account(tenant_id, "bank", asset="USD")
    for account, service in (
        ("debt:p1", "debt"),
        ("debt-control", "debt"),
        (cashback.EXPENSE_ACCOUNT, "cashback"),
    ):
        message = _refused(
            ledger, tenant_id, TransferRequest(new_id(), "bank", account, "USD", "1.00"), service
        )
        assert f"{service} movement" in message
    paid_out = ledger.transfer(
        tenant_id, TransferRequest(new_id(), "member-1", "bank", "USD", "1.00")
    )
    assert paid_out.amount_minor == 100
    assert ledger.get_account(tenant_id, "member-1").managed_by is None
    assert ledger.get_account(tenant_id, "debt:p1").managed_by == "debt"


def test_managed_by_must_name_a_service_and_cannot_be_changed_by_opening_again(
    ledger: Ledger, tenant_id: str
) -> None:
    ledger.create_asset(tenant_id, "USD", scale=2)
    with pytest.raises(ValidationError):
        ledger.create_account(tenant_id, "x", asset="USD", managed_by="nobody")
    ledger.create_account(tenant_id, "mine", asset="USD")
    with pytest.raises(AlreadyExists) as taken:
        ledger.create_account(tenant_id, "mine", asset="USD", managed_by="points")
    assert "managed_by" in taken.value.message
