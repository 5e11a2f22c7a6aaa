from __future__ import annotations

import pytest

from rewardledger.domain.errors import ExceedsPendingAmount, NotPending
from rewardledger.domain.transfers import PostPending, TransferRequest, TransferState, VoidPending
from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock, Programme, fund, programme


def hold(ledger: Ledger, p: Programme, ident: str, amount: str, **fields: object) -> None:
    ledger.transfer(
        p.tenant_id,
        TransferRequest(ident, p.wallets[0], p.wallets[1], "USD", amount, pending=True, **fields),  # type: ignore[arg-type]
    )


@pytest.fixture
def funded(ledger: Ledger, tenant_id: str) -> Programme:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "100.00")
    return p


def test_a_pending_transfer_holds_funds_without_posting_them(
    ledger: Ledger, funded: Programme
) -> None:
    hold(ledger, funded, "h1", "30.00")
    payer = ledger.balance(funded.tenant_id, funded.wallets[0])
    payee = ledger.balance(funded.tenant_id, funded.wallets[1])
    assert (str(payer.posted), str(payer.available), str(payer.pending_debits)) == (
        "100.00",
        "70.00",
        "30.00",
    )
    assert (str(payee.posted), str(payee.pending_credits)) == ("0.00", "30.00")
    assert ledger.get_transfer(funded.tenant_id, "h1").state is TransferState.PENDING


def test_posting_in_full_moves_the_held_amount(ledger: Ledger, funded: Programme) -> None:
    hold(ledger, funded, "h1", "30.00")
    post = ledger.post_pending(funded.tenant_id, "h1")
    assert post.id == "h1.post"
    assert str(post.amount) == "30.00"
    assert str(ledger.balance(funded.tenant_id, funded.wallets[1]).posted) == "30.00"
    pending = ledger.get_transfer(funded.tenant_id, "h1")
    assert (pending.state, pending.resolved_by) == (TransferState.POSTED, "h1.post")


def test_posting_less_releases_the_rest(ledger: Ledger, funded: Programme) -> None:
    hold(ledger, funded, "h1", "30.00")
    ledger.post_pending(funded.tenant_id, "h1", amount="12.00", id="charge-h1")
    payer = ledger.balance(funded.tenant_id, funded.wallets[0])
    assert (str(payer.posted), str(payer.available)) == ("88.00", "88.00")
    assert ledger.get_transfer(funded.tenant_id, "h1").resolved_by == "charge-h1"


def test_posting_more_than_held_is_refused(ledger: Ledger, funded: Programme) -> None:
    hold(ledger, funded, "h1", "30.00")
    with pytest.raises(ExceedsPendingAmount):
        ledger.post_pending(funded.tenant_id, "h1", amount="30.01")
    assert ledger.get_transfer(funded.tenant_id, "h1").state is TransferState.PENDING


def test_voiding_releases_the_whole_hold(ledger: Ledger, funded: Programme) -> None:
    hold(ledger, funded, "h1", "30.00")
    ledger.void_pending(funded.tenant_id, "h1")
    payer = ledger.balance(funded.tenant_id, funded.wallets[0])
    assert (str(payer.posted), str(payer.available)) == ("100.00", "100.00")
    assert ledger.get_transfer(funded.tenant_id, "h1").state is TransferState.VOIDED


def test_a_pending_transfer_is_resolved_once(ledger: Ledger, funded: Programme) -> None:
    hold(ledger, funded, "h1", "30.00")
    ledger.post_pending(funded.tenant_id, "h1")
    with pytest.raises(NotPending, match=r"already resolved by 'h1\.post'"):
        ledger.void_pending(funded.tenant_id, "h1")
    with pytest.raises(NotPending):
        ledger.post_pending(funded.tenant_id, "h1", id="second-post")
    # Replaying the first post is not a second resolution: it returns the first result.
    assert ledger.post_pending(funded.tenant_id, "h1").id == "h1.post"
    assert str(ledger.balance(funded.tenant_id, funded.wallets[1]).posted) == "30.00"


def test_resolving_an_unknown_or_single_phase_transfer_is_not_pending(
    ledger: Ledger, funded: Programme
) -> None:
    with pytest.raises(NotPending):
        ledger.post_pending(funded.tenant_id, "never-held")
    ledger.transfer(
        funded.tenant_id,
        TransferRequest("plain", funded.wallets[0], funded.wallets[1], "USD", "1.00"),
    )
    with pytest.raises(NotPending):
        ledger.void_pending(funded.tenant_id, "plain")


def test_due_pending_transfers_expire_exactly_once(
    ledger: Ledger, funded: Programme, clock: FakeClock
) -> None:
    hold(ledger, funded, "h-short", "10.00", timeout_seconds=60)
    hold(ledger, funded, "h-long", "20.00", timeout_seconds=3600)
    hold(ledger, funded, "h-forever", "5.00")
    assert ledger.expire_due(funded.tenant_id) == 0
    clock.advance(seconds=61)
    assert ledger.expire_due(funded.tenant_id) == 1
    assert ledger.expire_due(funded.tenant_id) == 0
    assert ledger.get_transfer(funded.tenant_id, "h-short").state is TransferState.EXPIRED
    assert ledger.get_transfer(funded.tenant_id, "h-long").state is TransferState.PENDING
    assert str(ledger.balance(funded.tenant_id, funded.wallets[0]).available) == "75.00"
    assert ledger.verify(funded.tenant_id).ok


def test_a_timed_out_pending_transfer_cannot_be_posted(
    ledger: Ledger, funded: Programme, clock: FakeClock
) -> None:
    hold(ledger, funded, "h1", "10.00", timeout_seconds=60)
    clock.advance(seconds=60)
    with pytest.raises(NotPending, match="timed out"):
        ledger.post_pending(funded.tenant_id, "h1")
    assert ledger.expire_due() >= 1
    assert ledger.get_transfer(funded.tenant_id, "h1").state is TransferState.EXPIRED


def test_history_shows_holds_and_their_release(ledger: Ledger, funded: Programme) -> None:
    hold(ledger, funded, "h1", "30.00")
    ledger.post_pending(funded.tenant_id, "h1", amount="10.00")
    entries = ledger.history(funded.tenant_id, funded.wallets[0]).entries
    assert [(e.transfer.id, str(e.posted_change), str(e.pending_change)) for e in entries[:2]] == [
        ("h1.post", "-10.00", "30.00"),
        ("h1", "0.00", "-30.00"),
    ]


def test_replaying_a_pending_transfer_returns_it_and_holds_nothing_more(
    ledger: Ledger, funded: Programme
) -> None:
    hold(ledger, funded, "h1", "30.00", timeout_seconds=60)
    [replay] = ledger.submit(
        funded.tenant_id,
        [
            TransferRequest(
                "h1",
                funded.wallets[0],
                funded.wallets[1],
                "USD",
                "30.00",
                pending=True,
                timeout_seconds=60,
            )
        ],
    )
    assert replay.replayed
    assert str(ledger.balance(funded.tenant_id, funded.wallets[0]).available) == "70.00"


def test_a_batch_can_resolve_holds_it_opens(ledger: Ledger, funded: Programme) -> None:
    w0, w1 = funded.wallets
    results = ledger.submit(
        funded.tenant_id,
        [
            TransferRequest("in-batch-1", w0, w1, "USD", "10.00", pending=True),
            TransferRequest("in-batch-2", w0, w1, "USD", "20.00", pending=True),
            PostPending("in-batch-1", amount="4.00"),
            VoidPending("in-batch-2"),
            VoidPending("in-batch-1", id="too-late"),
        ],
        atomic=False,
    )
    assert [r.ok for r in results] == [True, True, True, True, False]
    assert results[4].error is not None
    assert results[4].error.code == "not_pending"
    payer = ledger.balance(funded.tenant_id, w0)
    assert (str(payer.posted), str(payer.available)) == ("96.00", "96.00")
    assert ledger.get_transfer(funded.tenant_id, "in-batch-1").state is TransferState.POSTED
    assert ledger.verify(funded.tenant_id).ok
