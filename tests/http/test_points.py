"""The points and redemptions routes: status codes, shapes and problems (issue 4)."""

from __future__ import annotations

import pytest

from rewardledger.domain.points import Direction, Reason
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points
from tests.http.support import Api, assert_problem


@pytest.fixture
def wallet(api: Api, ledger: Ledger) -> Api:
    points.configure(
        ledger,
        api.tenant_id,
        reasons=[Reason(Direction.EARN, "purchase", pending_until_activated=True)],
    )
    response = api.post("/points/u1/earn", {"amount": "100", "dtype": "invoice", "reference": "e1"})
    assert response.status_code == 201, response.text
    return api


def test_earn_replay_answers_200_with_the_first_result(wallet: Api) -> None:
    again = wallet.post("/points/u1/earn", {"amount": "100", "dtype": "invoice", "reference": "e1"})
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert wallet.get("/points/u1").json()["balance"] == "100"


def test_spend_returns_the_lots_it_consumed_and_refuses_an_overdraft(wallet: Api) -> None:
    spent = wallet.post("/points/u1/spend", {"amount": "30", "dtype": "ocr", "reference": "s1"})
    assert spent.status_code == 201
    assert (spent.json()["quantity"], spent.json()["lots"]) == (
        "-30",
        [{"lot_id": "e1", "amount": "30"}],
    )
    refused = wallet.post("/points/u1/spend", {"amount": "71", "dtype": "ocr", "reference": "s2"})
    assert_problem(refused, 422, "insufficient_points")
    unknown = wallet.post("/points/u1/spend", {"amount": "1", "dtype": "nope", "reference": "s3"})
    assert_problem(unknown, 422, "validation_error")
    as_number = wallet.post("/points/u1/spend", {"amount": 1, "dtype": "ocr", "reference": "s4"})
    assert_problem(as_number, 422, "validation_error")


def test_accumulations_are_in_the_seed_shape(wallet: Api) -> None:
    wallet.post("/points/u1/spend", {"amount": "30", "dtype": "ocr", "reference": "s1"})
    page = wallet.get("/points/u1/accumulations").json()
    rows = [
        {k: row[k] for k in ("user_id", "accum_type", "dtype", "quantity", "balance")}
        for row in page["accumulations"]
    ]
    assert rows == [
        {
            "user_id": "u1",
            "accum_type": "spend",
            "dtype": "ocr",
            "quantity": "-30",
            "balance": "70",
        },
        {
            "user_id": "u1",
            "accum_type": "earn",
            "dtype": "invoice",
            "quantity": "100",
            "balance": "100",
        },
    ]
    only_earn = wallet.get("/points/u1/accumulations", params={"accum_type": "earn"}).json()
    assert [row["id"] for row in only_earn["accumulations"]] == ["e1"]


def test_pending_points_activate_through_the_activate_route(wallet: Api) -> None:
    wallet.post("/points/u1/earn", {"amount": "9", "dtype": "purchase", "reference": "o1"})
    assert wallet.get("/points/u1").json()["pending"] == "9"
    activated = wallet.post("/points/u1/activate", {"reference": "o1"})
    assert activated.status_code == 200, activated.text
    assert wallet.get("/points/u1").json()["balance"] == "109"
    cancelled = wallet.post("/points/u1/activate", {"reference": "o1", "cancel": True})
    assert_problem(cancelled, 409, "points_not_pending")


def test_redemption_code_confirms_once_with_a_merchant_key(wallet: Api) -> None:
    made = wallet.post(
        "/redemptions", {"user_id": "u1", "offer_id": "coffee", "cost": "40", "reference": "r1"}
    )
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    png = wallet.get("/redemptions/r1/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    svg = wallet.get("/redemptions/r1/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    confirmed = wallet.post("/redemptions/confirm", {"code": code}, role="merchant")
    assert confirmed.json()["state"] == "confirmed"
    again = wallet.post("/redemptions/confirm", {"code": code}, role="merchant")
    assert_problem(again, 409, "already_redeemed")
    assert_problem(wallet.post("/redemptions/r1/cancel"), 409, "invalid_redemption_state")
    assert wallet.get("/points/u1").json()["balance"] == "60"


def test_cancelled_redemption_refunds_the_points(wallet: Api) -> None:
    wallet.post(
        "/redemptions", {"user_id": "u1", "offer_id": "coffee", "cost": "40", "reference": "r1"}
    )
    cancelled = wallet.post("/redemptions/r1/cancel")
    assert (cancelled.json()["state"], cancelled.json()["refunded"]) == ("cancelled", "40")
    assert wallet.get("/points/u1").json()["balance"] == "100"
    assert wallet.get("/points/integrity").json() == {"holders": [], "next_cursor": None}
    [line] = wallet.get("/points/summary").json()["holders"]
    assert (line["earned"], line["spent"], line["integrity_status"]) == ("140", "40", "OK")


def test_unknown_redemption_is_not_found(wallet: Api) -> None:
    assert_problem(wallet.get("/redemptions/nope"), 404, "not_found")


def test_the_summary_pages_past_any_limit_with_an_opaque_cursor(wallet: Api) -> None:
    for holder in ("u2", "u3"):
        body = {"amount": "1", "dtype": "invoice", "idempotency_key": f"e-{holder}"}
        assert wallet.post(f"/points/{holder}/earn", body).status_code == 201
    first = wallet.get("/points/summary", params={"limit": 2}).json()
    assert [line["user_id"] for line in first["holders"]] == ["u1", "u2"]
    rest = wallet.get("/points/summary", params={"limit": 2, "cursor": first["next_cursor"]})
    assert ([line["user_id"] for line in rest.json()["holders"]], rest.json()["next_cursor"]) == (
        ["u3"],
        None,
    )
