from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rewardledger.domain.errors import (
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    NotFound,
    ValidationError,
)
from rewardledger.domain.limits import BATCH_SIZE_MAX
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock, fund, programme, request
from tests.conftest import owner_engine


def balance(ledger: Ledger, tenant_id: str, account_id: str) -> str:
    return str(ledger.get_account(tenant_id, account_id).balances.posted)


def test_a_transfer_updates_both_materialized_balances(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "100.00")
    transfer = ledger.transfer(tenant_id, request(p.wallets[0], p.wallets[1], "12.50"))
    assert str(transfer.amount) == "12.50"
    assert ledger.balance(tenant_id, p.wallets[0]).posted.minor == 8750
    assert ledger.balance(tenant_id, p.wallets[1]).posted.minor == 1250
    assert ledger.balance(tenant_id, p.funding).posted.minor == -10000


def test_a_transfer_is_tagged_with_the_tenant_cycle_of_its_effective_time(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    p = programme(ledger, tenant_id)
    clock.set(datetime(2026, 2, 1, 3, 0, tzinfo=UTC))  # 22:00 on 31 January in Panama
    transfer = ledger.transfer(tenant_id, request(p.funding, p.wallets[0], "1.00"))
    assert transfer.cycle_tag == "2026-01"


def test_replaying_a_transfer_returns_the_first_result_and_moves_nothing(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    original = TransferRequest("order-1", p.funding, p.wallets[0], "USD", "5.00")
    first = ledger.transfer(tenant_id, original)
    [replay] = ledger.submit(tenant_id, [original])
    assert replay.replayed
    assert replay.transfer == first
    assert balance(ledger, tenant_id, p.wallets[0]) == "500"


def test_reusing_an_id_for_another_request_is_a_conflict_naming_the_fields(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    ledger.transfer(tenant_id, TransferRequest("order-2", p.funding, p.wallets[0], "USD", "5.00"))
    with pytest.raises(IdempotencyConflict) as error:
        ledger.transfer(
            tenant_id,
            TransferRequest("order-2", p.funding, p.wallets[1], "USD", "5.01", kind="bonus"),
        )
    assert error.value.context["fields"] == ["amount", "credit_account_id", "kind"]
    assert balance(ledger, tenant_id, p.wallets[1]) == "0"


def test_a_refused_transfer_stays_refused_on_replay_even_after_funds_arrive(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    spend = TransferRequest("spend-1", p.wallets[0], p.wallets[1], "USD", "10.00")
    with pytest.raises(InsufficientFunds) as first:
        ledger.transfer(tenant_id, spend)
    assert first.value.context["available"] == "0.00"
    fund(ledger, p, p.wallets[0], "50.00")
    with pytest.raises(InsufficientFunds) as replay:
        ledger.transfer(tenant_id, spend)
    assert replay.value.context["replayed"] is True
    assert balance(ledger, tenant_id, p.wallets[0]) == "5000"
    with pytest.raises(NotFound, match="refused"):
        ledger.get_transfer(tenant_id, "spend-1")


def test_a_transfer_to_an_unknown_account_is_refused_and_changes_nothing(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(AccountNotFound):
        ledger.transfer(tenant_id, request(p.funding, "wallet:ghost", "1.00"))
    assert balance(ledger, tenant_id, p.funding) == "0"
    assert ledger.get_account(tenant_id, p.funding).entry_count == 0


def test_a_transfer_between_accounts_of_two_assets_is_a_currency_mismatch(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    ledger.create_asset(tenant_id, "ZWG", scale=2)
    ledger.create_account(tenant_id, "wallet:zwg", asset="ZWG")
    with pytest.raises(CurrencyMismatch):
        ledger.transfer(tenant_id, request(p.funding, "wallet:zwg", "1.00"))


def test_an_unknown_asset_is_not_found(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(NotFound, match="asset"):
        ledger.transfer(tenant_id, request(p.funding, p.wallets[0], "1", asset="EUR"))


def test_more_decimals_than_the_asset_allows_is_a_validation_error(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(ValidationError, match="decimal places"):
        ledger.transfer(tenant_id, request(p.funding, p.wallets[0], "1.001"))


def test_a_dry_run_reports_the_balances_after_and_writes_nothing(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "20.00")
    preview = ledger.transfer(
        tenant_id, TransferRequest("maybe", p.wallets[0], p.wallets[1], "USD", "7.00"), dry_run=True
    )
    assert preview.debit_balance_after_minor == 1300
    assert preview.credit_balance_after_minor == 700
    assert balance(ledger, tenant_id, p.wallets[0]) == "2000"
    with pytest.raises(NotFound):
        ledger.get_transfer(tenant_id, "maybe")
    with pytest.raises(InsufficientFunds):
        ledger.transfer(tenant_id, request(p.wallets[0], p.wallets[1], "99.00"), dry_run=True)
    # The id is still free: the dry run recorded nothing, not even the refusal.
    assert (
        ledger.transfer(
            tenant_id, TransferRequest("maybe", p.wallets[0], p.wallets[1], "USD", "7.00")
        ).id
        == "maybe"
    )


def test_an_atomic_batch_with_one_refusal_applies_nothing_and_replays_the_same(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    batch = [
        TransferRequest("b1", p.wallets[0], p.wallets[1], "USD", "6.00"),
        TransferRequest("b2", p.wallets[0], p.wallets[1], "USD", "6.00"),
    ]
    results = ledger.transfer_batch(tenant_id, batch)
    assert [r.error.code for r in results if r.error] == ["batch_failed", "insufficient_funds"]
    assert results[0].error is not None
    assert results[0].error.context["failed_id"] == "b2"
    assert balance(ledger, tenant_id, p.wallets[1]) == "0"
    replay = ledger.transfer_batch(tenant_id, batch)
    assert [r.error.code for r in replay if r.error] == ["batch_failed", "insufficient_funds"]
    assert all(r.replayed for r in replay)


def test_an_independent_batch_applies_what_it_can_in_order(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    results = ledger.transfer_batch(
        tenant_id,
        [
            request(p.wallets[0], p.wallets[1], "6.00"),
            request(p.wallets[0], p.wallets[1], "6.00"),
            request(p.wallets[0], p.wallets[1], "4.00"),
        ],
        atomic=False,
    )
    assert [r.ok for r in results] == [True, False, True]
    assert balance(ledger, tenant_id, p.wallets[0]) == "0"


def test_a_batch_of_the_maximum_size_posts_in_one_call(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id, wallets=40)
    results = ledger.transfer_batch(
        tenant_id,
        [request(p.funding, p.wallets[i % 40], "0.01") for i in range(BATCH_SIZE_MAX)],
    )
    assert all(r.ok for r in results)
    assert sum(ledger.get_account(tenant_id, w).balances.posted for w in p.wallets) == 8000
    assert ledger.verify(tenant_id).ok


def test_a_batch_above_the_maximum_size_is_refused(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(ValidationError, match="at most 8000"):
        ledger.transfer_batch(
            tenant_id,
            [request(p.funding, p.wallets[0], "0.01") for _ in range(BATCH_SIZE_MAX + 1)],
        )


def test_a_batch_with_a_repeated_id_is_refused(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    twin = TransferRequest("same", p.funding, p.wallets[0], "USD", "1")
    with pytest.raises(ValidationError, match="appears twice"):
        ledger.transfer_batch(tenant_id, [twin, twin])


def test_a_validation_error_in_a_batch_names_the_item(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(ValidationError) as error:
        ledger.transfer_batch(
            tenant_id,
            [request(p.funding, p.wallets[0], "1"), request(p.funding, p.wallets[0], "-1")],
        )
    assert error.value.context["index"] == 1
    assert error.value.message.startswith("transfers[1]")


def test_history_is_newest_first_with_the_balance_after_each_entry(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id)
    wallet = p.wallets[0]
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00"):
        fund(ledger, p, wallet, amount)
    ledger.transfer(tenant_id, request(wallet, p.wallets[1], "6.00"))
    first = ledger.history(tenant_id, wallet, limit=4)
    assert [str(e.balance_after) for e in first.entries] == ["9.00", "15.00", "10.00", "6.00"]
    assert [str(e.posted_change) for e in first.entries] == ["-6.00", "5.00", "4.00", "3.00"]
    assert first.next_cursor is not None
    second = ledger.history(tenant_id, wallet, limit=4, cursor=first.next_cursor)
    assert [str(e.balance_after) for e in second.entries] == ["3.00", "1.00"]
    assert second.next_cursor is None


def test_a_bad_history_cursor_is_a_validation_error(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(ValidationError, match="cursor"):
        ledger.history(tenant_id, p.wallets[0], cursor="abc")


def test_the_balance_as_of_a_past_time_counts_back_dated_transfers(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    p = programme(ledger, tenant_id)
    wallet = p.wallets[0]
    start = clock.now
    fund(ledger, p, wallet, "10.00")
    clock.advance(days=2)
    fund(ledger, p, wallet, "5.00")
    ledger.transfer(
        tenant_id,
        request(p.funding, wallet, "1.00", effective_at=start - timedelta(days=1)),
    )
    assert str(ledger.balance(tenant_id, wallet, at=start - timedelta(hours=1)).posted) == "1.00"
    assert str(ledger.balance(tenant_id, wallet, at=start + timedelta(days=1)).posted) == "11.00"
    assert str(ledger.balance(tenant_id, wallet).posted) == "16.00"


def test_every_write_leaves_one_outbox_event_per_transfer(ledger: Ledger, tenant_id: str) -> None:
    from sqlalchemy import select

    from rewardledger.storage.schema import outbox

    p = programme(ledger, tenant_id)
    ledger.transfer_batch(tenant_id, [request(p.funding, p.wallets[0], "1") for _ in range(3)])
    with owner_engine(ledger).connect() as connection:
        types = (
            connection.execute(select(outbox.c.event_type).where(outbox.c.tenant_id == tenant_id))
            .scalars()
            .all()
        )
    assert types.count("transfer.posted") == 3
    assert types.count("account.created") == 3
