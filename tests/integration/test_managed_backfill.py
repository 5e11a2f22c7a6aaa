"""Migration 0005 marks the accounts the services opened before it as managed by them.

A database at head is taken back to 0010 (the column dropped), then upgraded again: every
account a service opened is marked by the backfill, and the tenant's own accounts are not.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import budgets, cashback, debt, points
from rewardledger.storage import migrate
from tests.builders import FakeClock, new_id
from tests.conftest import owner_engine
from tests.services.cycles_support import programmes


def _managed_by(ledger: Ledger, tenant_id: str) -> dict[str, str | None]:
    engine = owner_engine(ledger)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT account_id, managed_by FROM accounts WHERE tenant_id = :t"),
            {"t": tenant_id},
        ).all()
    return {row.account_id: row.managed_by for row in rows}


def test_the_backfill_marks_what_each_service_opened(fresh_url: str) -> None:
    with Ledger.open(fresh_url, clock=FakeClock()) as ledger:
        tenant = "acme"
        ledger.create_tenant(tenant)
        programmes(ledger, tenant, minimum_spend="0")
        points.configure(ledger, tenant)
        points.earn(ledger, tenant, "u1", "5", dtype="invoice", reference="e1")
        budgets.create_budget(ledger, tenant, "promo", currency="USD", hard_cap="9.00")
        budgets.topup(ledger, tenant, "promo", amount="5.00", currency="USD", idempotency_key="k")
        debt.record(ledger, tenant, debt.DebtRequest(new_id("d"), "p1", "charge", "2.00"))
        cashback.accrue(ledger, tenant, cashback.Accrual(new_id("cb"), "member", "1.00", "0.10"))
        ledger.create_account(tenant, "own", asset="USD")
        ledger.create_account(tenant, "pts:elsewhere", asset="USD")
        opened = _managed_by(ledger, tenant)

        engine = owner_engine(ledger)
        config = migrate._config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0010_row_security")
            connection.commit()
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        backfilled = _managed_by(ledger, tenant)

    assert backfilled == opened
    expected = {
        "pts:LUMIS:u1": "points",
        "pts:LUMIS:@issued": "points",
        budgets.funding_account("USD"): "budgets",
        "debt:p1": "debt",
        "debt-control": "debt",
        cashback.EXPENSE_ACCOUNT: "cashback",
        "member": None,
        "own": None,
        "pts:elsewhere": None,
    }
    assert {k: backfilled[k] for k in expected} == expected
    periods = [a for a in backfilled if a.startswith("budget:promo:")]
    assert periods
    assert all(backfilled[a] == "budgets" for a in periods)


def test_a_transfer_after_the_backfill_is_refused_on_a_backfilled_account(fresh_url: str) -> None:
    with Ledger.open(fresh_url, clock=FakeClock()) as ledger:
        ledger.create_tenant("acme")
        points.configure(ledger, "acme")
        points.earn(ledger, "acme", "u1", "5", dtype="invoice", reference="e1")
        engine = owner_engine(ledger)
        config = migrate._config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0010_row_security")
            command.upgrade(config, "head")
            connection.commit()
        ledger.create_account("acme", "pool", asset="LUMIS")
        result = ledger.transfer_batch(
            "acme", [TransferRequest(new_id(), "pool", "pts:LUMIS:u1", "LUMIS", "1")], atomic=False
        )
        assert result[0].error is not None
        assert result[0].error.code == "managed_account"
