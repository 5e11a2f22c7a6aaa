"""Group commit (REWARDLEDGER_GROUP_COMMIT): concurrent single transfers written in one
transaction, each answered as the single path answers it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest

from rewardledger.config import Settings
from rewardledger.domain.access import Role
from rewardledger.domain.transfers import TransferRequest
from rewardledger.http.app import create_app
from rewardledger.http.group_commit import GroupCommit
from rewardledger.http.schemas import TransferPublic
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.results import TransferResult
from rewardledger.services.access import issue_key
from tests.builders import Programme, fund, programme
from tests.http.support import ADMIN_TOKEN, Api, TestClient, transfer_body

REPLAYED = "Idempotent-Replayed"


def _shape(outcome: TransferResult | BaseException) -> Any:
    """What the route makes of a result (``raise_for_single``), without the tenant (two
    tenants are compared): the transfer and whether it is a replay, or the error raised."""
    try:
        if isinstance(outcome, BaseException):
            raise outcome
        transfer = TransferPublic.of(raise_for_single(outcome)).model_dump(mode="json")
    except Exception as error:
        return ("raised", type(error).__name__, str(error), getattr(error, "context", None))
    transfer.pop("tenant_id", None)
    return (outcome.id, outcome.replayed, outcome.dry_run, transfer)


def _twin(ledger: Ledger) -> tuple[Programme, Programme]:
    """Two tenants set up alike: one for groups, one for the single path."""
    pair = []
    for _ in range(2):
        tenant = f"t{secrets.token_hex(6)}"
        ledger.create_tenant(tenant, timezone="America/Panama")
        p = programme(ledger, tenant, wallets=3)
        fund(ledger, p, p.wallets[0], "100.00")
        pair.append(p)
    return pair[0], pair[1]


def _script(p: Programme, bad: bool) -> list[TransferRequest]:
    """Transfers that touch the same accounts, a refusal between acceptances, a replay and a
    conflict of an earlier write, an id twice (same values, then other values)."""
    w0, w1, w2 = p.wallets
    ops = [
        TransferRequest("g-1", w0, w1, "USD", "30.00"),
        TransferRequest("g-2", w1, w2, "USD", "50.00"),  # refused: w1 holds 30.00 then
        TransferRequest("g-3", w0, w2, "USD", "20.00"),
        TransferRequest("g-1", w0, w1, "USD", "30.00"),  # the same again: a replay of g-1
        TransferRequest("g-4", p.funding, w1, "USD", "5.00"),
        TransferRequest("g-1", w0, w2, "USD", "30.00"),  # other values: a conflict
        TransferRequest("old", w0, w1, "USD", "1.00"),  # written before: a replay
        TransferRequest("old-2", w0, w1, "USD", "2.00"),  # written before with 1.00: conflict
        TransferRequest("g-5", w1, "nobody", "USD", "1.00"),  # an unknown account
        TransferRequest("g-6", w2, w0, "USD", "60.00"),  # refused: w2 holds 20.00
        TransferRequest("g-2", w1, w2, "USD", "50.00"),  # the refusal replayed
    ]
    if bad:  # refused before anything is written, which refuses a whole call
        ops.insert(4, TransferRequest("g-bad", w0, w1, "EUR", "1.00"))
        ops.insert(7, TransferRequest("g-bad-2", w0, w1, "USD", "1.234"))
    return ops


def _single(ledger: Ledger, tenant_id: str, op: TransferRequest) -> TransferResult | Exception:
    try:
        return ledger.submit(tenant_id, [op])[0]
    except Exception as error:
        return error


@pytest.mark.parametrize("bad", [False, True], ids=["written-in-groups", "a-group-refused"])
def test_a_group_answers_each_transfer_as_the_single_path_does(ledger: Ledger, bad: bool) -> None:
    grouped, alone = _twin(ledger)
    for p in (grouped, alone):
        for name in ("old", "old-2"):
            ledger.submit(p.tenant_id, [TransferRequest(name, p.wallets[0], p.wallets[1],
                                                        "USD", "1.00")])  # fmt: skip
    committer = GroupCommit()

    async def all_at_once() -> list[TransferResult | BaseException]:
        calls = [committer.submit(ledger, grouped.tenant_id, op) for op in _script(grouped, bad)]
        return await asyncio.gather(*calls, return_exceptions=True)

    # The first call finds the lane idle and is written alone; every other is queued before
    # it ends: the first group holds their distinct ids, each repeated id waits for the next.
    outcomes = asyncio.run(all_at_once())
    expected = [_single(ledger, alone.tenant_id, op) for op in _script(alone, bad)]
    assert committer.groups_written >= 2
    # A transfer refused before writing refuses its group's call: each is then run alone.
    assert (committer.groups_written_alone > 0) is bad
    assert [_shape(o) for o in outcomes] == [_shape(e) for e in expected]
    for p in (grouped, alone):
        assert ledger.verify(p.tenant_id).ok
    assert [ledger.balance(grouped.tenant_id, a).posted for a in grouped.wallets] == [
        ledger.balance(alone.tenant_id, a).posted for a in alone.wallets
    ]


def test_an_id_twice_in_the_queue_is_never_in_one_group(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "10.00")
    committer = GroupCommit(group_size_max=3)
    op = TransferRequest("twice", p.wallets[0], p.wallets[1], "USD", "1.00")
    others = [TransferRequest(f"o-{n}", p.funding, p.wallets[1], "USD", "1.00") for n in range(5)]

    async def all_at_once() -> list[TransferResult]:
        return await asyncio.gather(
            *(committer.submit(ledger, tenant_id, o) for o in [op, op, *others, op])
        )

    results = asyncio.run(all_at_once())
    assert [(r.id, r.ok, r.replayed) for r in results] == [
        ("twice", True, False),
        ("twice", True, True),
        *[(f"o-{n}", True, False) for n in range(5)],
        ("twice", True, True),
    ]
    # the first alone, then (twice, o-0, o-1), (o-2, o-3, o-4), and (twice) alone
    assert (committer.groups_written, committer.groups_written_alone) == (2, 0)
    assert ledger.balance(tenant_id, p.wallets[1]).posted.minor == 600
    assert ledger.verify(tenant_id).ok


# Over HTTP, with real concurrent clients --------------------------------------------------------


@pytest.fixture
def grouped_api(ledger: Ledger, tenant_id: str, shop: Programme) -> Iterator[Api]:
    app = create_app(ledger, Settings(admin_token=ADMIN_TOKEN, group_commit=True))
    with TestClient(app) as client:
        key = issue_key(ledger, tenant_id, Role.WRITER.value).key
        yield Api(client, tenant_id, {"writer": key, "reader": key})


CLIENTS = 12
ROUNDS = 6


def _client_requests(shop: Programme, number: int) -> list[tuple[str, dict[str, Any]]]:
    """A client's requests: its own transfers (some refused), and ids every client sends."""
    w0, w1 = shop.wallets
    requests: list[tuple[str, dict[str, Any]]] = []
    for n in range(ROUNDS):
        requests += [
            (f"c{number}-{n}-in", transfer_body(shop.funding, w0, "1.00")),
            # w1 starts empty: refused until enough has moved into it
            (f"c{number}-{n}-out", transfer_body(w1, w0, "3.00")),
            (f"c{number}-{n}-w", transfer_body(w0, w1, "2.00")),
            # the same id and values from every client at once: written once, then replays
            (f"shared-{n}", transfer_body(shop.funding, w1, "4.00")),
            # the same id, another amount from each client: one is written, others conflict
            (f"contested-{n}", transfer_body(shop.funding, w1, f"{number + 1}.00")),
        ]
    return requests


def _run_clients(api: Api, shop: Programme) -> list[list[tuple[str, dict[str, Any], Any]]]:
    answers: list[list[tuple[str, dict[str, Any], Any]]] = [[] for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        start.wait()
        for key, body in _client_requests(shop, number):
            response = api.post("/transfers", body, headers={"Idempotency-Key": key})
            answers[number].append((key, body, response))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _check_answer(key: str, body: dict[str, Any], response: httpx.Response) -> None:
    if response.status_code == 201:
        assert REPLAYED not in response.headers
        assert (response.json()["id"], response.json()["amount"]) == (key, body["amount"])
    elif response.status_code == 200:
        assert response.headers[REPLAYED] == "true"
        assert response.json()["id"] == key
    elif response.status_code == 409:
        assert response.json()["code"] == "idempotency_conflict"
        assert key.startswith("contested-")
    else:
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "insufficient_funds"
        assert key.endswith(("-out", "-w"))


def test_concurrent_clients_each_get_their_own_answer_and_the_journal_adds_up(
    grouped_api: Api, ledger: Ledger, shop: Programme
) -> None:
    answers = _run_clients(grouped_api, shop)
    committer: GroupCommit = grouped_api.client.app.state.group_commit  # type: ignore[attr-defined]
    assert committer.groups_written > 0  # some requests did share a transaction
    assert committer.groups_written_alone == 0
    flat = [answer for client in answers for answer in client]
    for key, body, response in flat:
        _check_answer(key, body, response)
    created = {key: (body, r.json()) for key, body, r in flat if r.status_code == 201}
    statuses = Counter((key.split("-")[0], r.status_code) for key, _, r in flat)
    # Every shared or contested id was written exactly once; each of its others was a replay
    # (same values) or, for a contested one, a conflict.
    assert statuses[("shared", 201)] == statuses[("contested", 201)] == ROUNDS
    assert statuses[("shared", 200)] == ROUNDS * (CLIENTS - 1)
    assert statuses[("contested", 200)] + statuses[("contested", 409)] == ROUNDS * (CLIENTS - 1)
    for key, body, response in flat:
        if response.status_code in (200, 409) and key in created:
            first_body, first = created[key]
            if response.status_code == 200:
                assert response.json() == first
            else:
                assert body["amount"] != first_body["amount"]
    _replays_are_the_first_answers(grouped_api, flat)
    _balances_are_the_sum_of_the_answers(ledger, shop, created)


def _replays_are_the_first_answers(
    api: Api, flat: Sequence[tuple[str, dict[str, Any], Any]]
) -> None:
    firsts: dict[str, Any] = {}
    for key, body, response in flat:
        if response.status_code in (201, 422) and key not in firsts:
            firsts[key] = (body, response)
    for key, (body, response) in firsts.items():
        again = api.post("/transfers", body, headers={"Idempotency-Key": key})
        expected = 200 if response.status_code == 201 else 422
        assert again.status_code == expected
        first, replay = response.json(), again.json()
        if expected == 422:
            assert first.pop("replayed") is False
            assert replay.pop("replayed") is True
            assert again.headers[REPLAYED] == "true"
        assert replay == first


def _balances_are_the_sum_of_the_answers(
    ledger: Ledger, shop: Programme, created: dict[str, tuple[dict[str, Any], Any]]
) -> None:
    assert ledger.verify(shop.tenant_id).ok
    moved: Counter[str] = Counter()
    for body, _ in created.values():
        cents = int(Decimal(body["amount"]) * 100)
        moved[body["debit_account_id"]] -= cents
        moved[body["credit_account_id"]] += cents
    w0, w1 = shop.wallets
    assert ledger.balance(shop.tenant_id, w0).posted.minor == 10_000 + moved[w0]
    assert ledger.balance(shop.tenant_id, w1).posted.minor == moved[w1]
    assert ledger.balance(shop.tenant_id, w1).posted.minor >= 0
