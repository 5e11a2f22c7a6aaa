from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from tests.builders import fund, programme, request, wide_programme
from tests.conftest import owner_engine


def sql(ledger: Ledger, statement: str, **params: object) -> None:
    with owner_engine(ledger).begin() as connection:
        connection.execute(text(statement), params)


def count(ledger: Ledger, statement: str, **params: object) -> int:
    with owner_engine(ledger).connect() as connection:
        return int(connection.execute(text(statement), params).scalar_one())


def test_a_fresh_ledger_verifies_clean(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    ledger.transfer(tenant_id, request(p.wallets[0], p.wallets[1], "4.00", pending=True))
    report = ledger.verify(tenant_id)
    assert report.ok
    assert report.accounts_checked == 3


@pytest.mark.parametrize(
    "statement", ["UPDATE transfers SET amount_minor = 1", "DELETE FROM transfers"]
)
def test_the_journal_refuses_plain_sql_updates_and_deletes(
    ledger: Ledger, tenant_id: str, statement: str
) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    with pytest.raises(DBAPIError, match="append-only"):
        sql(ledger, f"{statement} WHERE tenant_id = :t", t=tenant_id)
    assert count(ledger, "SELECT count(*) FROM transfers WHERE tenant_id = :t", t=tenant_id) == 1


def test_a_corrupted_balance_is_reported_then_rebuilt_from_the_journal(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    sql(
        ledger,
        "UPDATE accounts SET credits_posted = credits_posted + 500 "
        "WHERE tenant_id = :t AND account_id = :a",
        t=tenant_id,
        a=p.wallets[0],
    )
    report = ledger.verify(tenant_id)
    checks = {(d.check, d.subject, d.field) for d in report.discrepancies}
    assert ("account_matches_journal", p.wallets[0], "credits_posted") in checks
    assert ("asset_balances_sum_to_zero", "USD", "posted") in checks
    journal_rows = count(ledger, "SELECT count(*) FROM transfers WHERE tenant_id = :t", t=tenant_id)

    repair = ledger.repair(tenant_id, actor="ops@example.com")
    assert [(c.subject, c.field, c.materialized, c.journal) for c in repair.changes] == [
        (p.wallets[0], "credits_posted", "15.00", "10.00")
    ]
    assert ledger.verify(tenant_id).ok
    assert str(ledger.balance(tenant_id, p.wallets[0]).posted) == "10.00"
    assert (
        count(ledger, "SELECT count(*) FROM transfers WHERE tenant_id = :t", t=tenant_id)
        == journal_rows
    )
    assert (
        count(
            ledger,
            "SELECT count(*) FROM integrity_repair_changes c JOIN integrity_repairs r "
            "ON r.tenant_id = c.tenant_id AND r.repair_id = c.repair_id "
            "WHERE r.tenant_id = :t AND r.actor = 'ops@example.com'",
            t=tenant_id,
        )
        == 1
    )


def test_a_lost_hold_is_reported_and_recreated(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    ledger.transfer(
        tenant_id,
        TransferRequest("h1", p.wallets[0], p.wallets[1], "USD", "4.00", pending=True),
    )
    sql(ledger, "DELETE FROM holds WHERE tenant_id = :t", t=tenant_id)
    assert [d.check for d in ledger.verify(tenant_id).discrepancies] == ["open_pending_has_hold"]
    ledger.repair(tenant_id, actor="ops")
    assert ledger.verify(tenant_id).ok
    ledger.void_pending(tenant_id, "h1")
    assert ledger.verify(tenant_id).ok


def test_verify_walks_tenants_larger_than_one_chunk(ledger: Ledger, tenant_id: str) -> None:
    from rewardledger.domain import limits

    p = wide_programme(ledger, tenant_id, wallets=limits.INTEGRITY_CHUNK_SIZE + 5)
    ledger.transfer_batch(tenant_id, [request(p.funding, w, "1.00") for w in p.wallets])
    seen: list[int] = []
    report = ledger.verify(tenant_id, progress=seen.append)
    assert report.ok
    assert report.accounts_checked == len(p.wallets) + 1
    assert sum(seen) == report.accounts_checked
    assert len(seen) == 2


def test_reports_list_a_bounded_number_of_discrepancies_but_count_them_all(
    ledger: Ledger, tenant_id: str
) -> None:
    from rewardledger.domain import limits

    p = wide_programme(ledger, tenant_id, wallets=limits.REPORT_DISCREPANCIES_MAX + 4)
    sql(
        ledger,
        "UPDATE accounts SET entry_count = entry_count + 1 WHERE tenant_id = :t",
        t=tenant_id,
    )
    report = ledger.verify(tenant_id)
    assert report.discrepancy_count == len(p.wallets) + 1
    assert len(report.discrepancies) == limits.REPORT_DISCREPANCIES_MAX
    repair = ledger.repair(tenant_id, actor="ops")
    assert repair.change_count == len(p.wallets) + 1
    assert len(repair.changes) == limits.REPORT_DISCREPANCIES_MAX
    assert ledger.verify(tenant_id).ok
