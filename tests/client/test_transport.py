"""The client's retry policy and idempotency keys, without a server: Retry-After is honoured
(up to its cap), the backoff is capped, and a write gets one key that every attempt reuses."""

from __future__ import annotations

import httpx2

from rewardledger.client import RETRY_AFTER_MAX_SECONDS, Retries
from rewardledger.client._transport import IDEMPOTENCY_HEADER, Call
from rewardledger.http.schemas import TransferCreate, TransferPublic


def _answer(status: int, retry_after: str | None) -> httpx2.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx2.Response(status, headers=headers)


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    retries = Retries()
    assert retries.delay(0, _answer(429, "3")) == 3
    assert retries.delay(0, _answer(503, "100000")) == RETRY_AFTER_MAX_SECONDS


def test_the_backoff_is_jittered_and_capped() -> None:
    retries = Retries(base_seconds=1.0, cap_seconds=2.0)
    delays = [
        retries.delay(attempt, _answer(502, None)) for attempt in range(10) for _ in range(20)
    ]
    assert all(0 <= delay <= 2.0 for delay in delays)
    assert len(set(delays)) > 1


def _transfer(ref: str | None) -> TransferCreate:
    return TransferCreate(
        debit_account_id="a", credit_account_id="b", asset="USD", amount="1.00", ref=ref
    )


def test_a_keyed_write_gets_a_key_unless_its_body_or_caller_names_one() -> None:
    made = Call("POST", "/t", TransferPublic, body=_transfer(None), keyed=True).headers()
    assert made[IDEMPOTENCY_HEADER].startswith("rlc-")
    named = Call("POST", "/t", TransferPublic, body=_transfer("order-1"), keyed=True)
    assert named.headers() == {}
    given = Call(
        "POST", "/t", TransferPublic, body=_transfer(None), keyed=True, idempotency_key="k"
    )
    assert given.headers() == {IDEMPOTENCY_HEADER: "k"}
