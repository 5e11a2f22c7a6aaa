"""The posting rules as pure functions: no database, just AccountState values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rewardledger.domain.accounts import AccountState
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.transfers import (
    Accepted,
    ExpirePending,
    PendingInfo,
    Phase,
    PostPending,
    Refused,
    Resolved,
    TransferRequest,
    VoidPending,
    differing_fields,
    evaluate,
    request_fields,
)

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)
SCALES = {"USD": 2, "LUMIS": 0}


def state(account_id: str, *, credits: int = 0, no_negative: bool = True, asset: str = "USD"):
    return AccountState(account_id, asset, no_negative, 0, 0, 0, credits, 0)


def item(op, amount: int | None = None) -> Resolved:
    ident = op.id if isinstance(op, TransferRequest) else f"{op.pending_id}.x"
    return Resolved(op, ident, amount)


def transfer(ident: str, debit: str, credit: str, amount: int, **fields) -> Resolved:
    text = f"{amount // 100}.{amount % 100:02d}"
    return item(TransferRequest(ident, debit, credit, "USD", text, **fields), amount)


def run(items, accounts, pendings=None, *, atomic=False):
    return evaluate(items, accounts, pendings or {}, SCALES, NOW, atomic=atomic)


def test_a_transfer_moves_the_amount_from_debit_to_credit() -> None:
    accounts = {"a": state("a", credits=1000), "b": state("b")}
    [outcome] = run([transfer("t1", "a", "b", 400)], accounts)
    assert isinstance(outcome, Accepted)
    assert accounts["a"].posted == 600
    assert accounts["b"].posted == 400
    assert (outcome.debit_balance_after_minor, outcome.credit_balance_after_minor) == (600, 400)
    assert (outcome.debit_entry_seq, outcome.credit_entry_seq) == (1, 1)


def test_a_no_negative_account_cannot_be_overdrawn_and_nothing_changes() -> None:
    accounts = {"a": state("a", credits=100), "b": state("b")}
    [outcome] = run([transfer("t1", "a", "b", 101)], accounts)
    assert isinstance(outcome, Refused)
    assert outcome.error.code == "insufficient_funds"
    assert outcome.error.context["available"] == "1.00"
    assert accounts["a"].posted == 100
    assert accounts["a"].entry_count == 0


def test_an_account_without_the_flag_may_go_below_zero() -> None:
    accounts = {"funding": state("funding", no_negative=False), "b": state("b")}
    [outcome] = run([transfer("t1", "funding", "b", 5000)], accounts)
    assert isinstance(outcome, Accepted)
    assert accounts["funding"].posted == -5000


def test_a_pending_transfer_holds_funds_that_later_debits_cannot_use() -> None:
    accounts = {"a": state("a", credits=1000), "b": state("b")}
    outcomes = run(
        [transfer("h", "a", "b", 700, pending=True), transfer("t", "a", "b", 400)], accounts
    )
    assert isinstance(outcomes[0], Accepted)
    assert outcomes[0].phase is Phase.PENDING
    assert isinstance(outcomes[1], Refused)
    assert accounts["a"].available == 300
    assert accounts["a"].posted == 1000


def test_currency_mismatch_is_refused() -> None:
    accounts = {"a": state("a", credits=10), "p": state("p", asset="LUMIS")}
    [outcome] = run([transfer("t", "a", "p", 1)], accounts)
    assert isinstance(outcome, Refused)
    assert outcome.error.code == "currency_mismatch"


def test_an_unknown_account_is_refused_as_not_found() -> None:
    [outcome] = run([transfer("t", "a", "ghost", 1)], {"a": state("a", credits=10)})
    assert isinstance(outcome, Refused)
    assert outcome.error.code == "not_found"


def test_an_all_or_nothing_batch_with_one_refusal_changes_nothing() -> None:
    accounts = {"a": state("a", credits=100), "b": state("b")}
    outcomes = run(
        [transfer("t1", "a", "b", 50), transfer("t2", "a", "b", 60)], accounts, atomic=True
    )
    assert [o.error.code for o in outcomes] == ["batch_failed", "insufficient_funds"]
    assert accounts["a"].posted == 100
    assert accounts["a"].entry_count == 0


def test_an_independent_batch_applies_each_item_on_its_own() -> None:
    accounts = {"a": state("a", credits=100), "b": state("b")}
    outcomes = run([transfer("t1", "a", "b", 60), transfer("t2", "a", "b", 60)], accounts)
    assert [type(o) for o in outcomes] == [Accepted, Refused]
    assert accounts["a"].posted == 40


def pending_info(held: int = 500, *, is_open: bool = True, expires_at=None) -> PendingInfo:
    return PendingInfo("h", "USD", held, "a", "b", "reserve", None, expires_at, is_open)


def test_posting_less_than_held_releases_the_rest() -> None:
    accounts = {"a": AccountState("a", "USD", True, 500, 0, 0, 1000, 1), "b": state("b")}
    accounts["b"].credits_pending = 500
    [outcome] = run([item(PostPending("h", amount="2.00"), 200)], accounts, {"h": pending_info()})
    assert isinstance(outcome, Accepted)
    assert outcome.phase is Phase.POST
    assert (accounts["a"].debits_pending, accounts["a"].debits_posted) == (0, 200)
    assert (accounts["b"].credits_pending, accounts["b"].credits_posted) == (0, 200)


def test_posting_more_than_held_is_refused() -> None:
    accounts = {"a": AccountState("a", "USD", True, 500, 0, 0, 1000, 1), "b": state("b")}
    [outcome] = run([item(PostPending("h", amount="6.00"), 600)], accounts, {"h": pending_info()})
    assert isinstance(outcome, Refused)
    assert outcome.error.code == "exceeds_pending_amount"
    assert accounts["a"].debits_pending == 500


@pytest.mark.parametrize("op", [PostPending("h"), VoidPending("h")])
def test_a_resolved_pending_transfer_cannot_be_resolved_again(op) -> None:
    accounts = {"a": state("a", credits=1000), "b": state("b")}
    [outcome] = run([item(op)], accounts, {"h": pending_info(is_open=False)})
    assert isinstance(outcome, Refused)
    assert outcome.error.code == "not_pending"


def test_only_a_timed_out_pending_transfer_expires() -> None:
    accounts = {"a": AccountState("a", "USD", True, 500, 0, 0, 1000, 1), "b": state("b")}
    later = pending_info(expires_at=NOW + timedelta(seconds=1))
    [early] = run([item(ExpirePending("h"))], accounts, {"h": later})
    assert isinstance(early, Refused)
    due = pending_info(expires_at=NOW)
    [expired] = run([item(ExpirePending("h"))], accounts, {"h": due})
    assert isinstance(expired, Accepted)
    assert expired.phase is Phase.EXPIRE


def test_a_timed_out_pending_transfer_can_no_longer_be_posted() -> None:
    accounts = {"a": AccountState("a", "USD", True, 500, 0, 0, 1000, 1), "b": state("b")}
    [outcome] = run([item(PostPending("h"))], accounts, {"h": pending_info(expires_at=NOW)})
    assert isinstance(outcome, Refused)
    assert "timed out" in outcome.error.message


def test_validation_refuses_a_transfer_to_the_same_account() -> None:
    with pytest.raises(ValidationError, match="same account"):
        TransferRequest("t", "a", "a", "USD", "1.00").validate(NOW)


def test_validation_refuses_post_dated_transfers() -> None:
    with pytest.raises(ValidationError, match="future"):
        TransferRequest("t", "a", "b", "USD", "1", effective_at=NOW + timedelta(hours=1)).validate(
            NOW
        )


def test_validation_refuses_floats_in_metadata() -> None:
    with pytest.raises(ValidationError, match="fractional"):
        TransferRequest("t", "a", "b", "USD", "1", metadata={"rate": 0.5}).validate(NOW)


def test_a_timeout_needs_a_pending_transfer() -> None:
    with pytest.raises(ValidationError, match="only to pending"):
        TransferRequest("t", "a", "b", "USD", "1", timeout_seconds=5).validate(NOW)


def test_differing_fields_names_what_changed_and_ignores_unset_times() -> None:
    stored = request_fields(TransferRequest("t", "a", "b", "USD", "1"), 100)
    stored["effective_at"] = NOW.isoformat()
    replay = request_fields(TransferRequest("t", "a", "c", "USD", "2"), 200)
    assert differing_fields(stored, replay) == ["amount", "credit_account_id"]
    same = request_fields(TransferRequest("t", "a", "b", "USD", "1"), 100)
    assert differing_fields(stored, same) == []
