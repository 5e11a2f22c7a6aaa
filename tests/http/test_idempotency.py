"""One idempotency convention on every keyed write: the ``Idempotency-Key`` header or
``idempotency_key`` in the body (old names still taken), disagreeing names a 422, the same key
with another body a 409, and a replay 200 with ``Idempotent-Replayed: true`` everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from rewardledger.ledger.engine import Ledger
from rewardledger.services import points
from tests.builders import Programme
from tests.http.support import Api, assert_problem, transfer_body

KEY = {"Idempotency-Key": "k-1"}


@pytest.fixture
def cycles_api(api: Api) -> Api:
    admin = api.auth("admin")
    program = {"currency": "USD", "minimum_spend": "100.00", "default_cap": "10.00"}
    assert api.client.put(api.url("/cashback/program"), json=program, headers=admin).is_success
    assert api.client.put(api.url("/debt/program"), json={"currency": "USD"}, headers=admin)
    return api


def _accrual(**key: str) -> dict[str, Any]:
    return {"account_id": "card-1", "spend": "300.00", "cashback": "5.00", **key}


def _debt(amount: str = "50.00", **key: str) -> dict[str, Any]:
    return {"person_id": "p1", "kind": "opening", "amount": amount, **key}


def _replays(api: Api, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    first = api.post(path, body, headers=headers)
    assert first.status_code == 201, first.text
    again = api.post(path, body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"


def test_cashback_and_debt_movements_take_the_header(cycles_api: Api) -> None:
    _replays(cycles_api, "/cashback/movements", _accrual(), KEY)
    _replays(cycles_api, "/debt/movements", _debt(), KEY)
    other = cycles_api.post("/debt/movements", _debt("60.00"), headers=KEY)
    assert_problem(other, 409, "idempotency_conflict")


def test_the_body_field_and_the_deprecated_names_are_the_same_key(cycles_api: Api) -> None:
    _replays(cycles_api, "/cashback/movements", _accrual(idempotency_key="a1"), {})
    again = cycles_api.post("/cashback/movements", _accrual(id="a1"))
    assert again.headers["Idempotent-Replayed"] == "true"
    again = cycles_api.post("/cashback/movements", _accrual(), headers={"Idempotency-Key": "a1"})
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/cashback/movements", _accrual(idempotency_key="b")),
        ("/debt/movements", _debt(id="b")),
        ("/points/u1/earn", {"amount": "1", "dtype": "invoice", "reference": "b"}),
        ("/redemptions", {"user_id": "u1", "offer_id": "o", "cost": "1", "reference": "b"}),
        ("/budgets/none/reservations", {"amount": "1", "currency": "USD", "reference": "b"}),
        ("/budgets/none/topup", {"amount": "1", "currency": "USD", "idempotency_key": "b"}),
    ],
)
def test_a_header_and_a_body_key_that_differ_are_refused(
    cycles_api: Api, path: str, body: dict[str, Any]
) -> None:
    refused = cycles_api.post(path, body, headers=KEY)
    problem = assert_problem(refused, 422, "validation_error")
    assert "'k-1'" in problem["detail"]
    assert "'b'" in problem["detail"]


def test_a_transfer_takes_idempotency_key_and_still_ref(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    body = transfer_body(*shop.wallets, "1.00")
    _replays(api, "/transfers", {**body, "idempotency_key": "t1"}, {})
    again = api.post("/transfers", {**body, "ref": "t1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    refused = api.post("/transfers", {**body, "ref": "t1", "idempotency_key": "t2"})
    assert_problem(refused, 422, "validation_error")


def test_points_writes_take_the_header_and_signal_a_replay_in_a_header(
    api: Api, ledger: Ledger
) -> None:
    points.configure(ledger, api.tenant_id)
    earn = {"amount": "10", "dtype": "invoice"}
    _replays(api, "/points/u1/earn", earn, KEY)
    assert api.post("/points/u1/earn", earn, headers=KEY).json()["replayed"] is True
    other = api.post("/points/u1/earn", {**earn, "amount": "11"}, headers=KEY)
    assert_problem(other, 409, "idempotency_conflict")
    missing = assert_problem(api.post("/points/u1/earn", earn), 422, "validation_error")
    assert "Idempotency-Key" in missing["detail"]
    redeem = {"user_id": "u1", "offer_id": "coffee", "cost": "5"}
    _replays(api, "/redemptions", redeem, {"Idempotency-Key": "r-1"})
