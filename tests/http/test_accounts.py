"""Assets and accounts: create, read, history (keyset pages, newest first), balance now and then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock, Programme
from tests.http.support import Api, assert_problem, transfer_body


def test_an_admin_creates_an_asset_and_may_send_it_again(api: Api, ledger: Ledger) -> None:
    body = {"code": "LUMIS", "scale": 0, "name": "Lumis points"}
    first = api.post("/assets", body, role="admin")
    assert first.status_code == 201, first.text
    assert first.json() | {"created_at": None} == body | {"created_at": None}
    again = api.post("/assets", body, role="admin")
    assert (again.status_code, again.json()) == (201, first.json())
    assert ledger.get_asset(api.tenant_id, "LUMIS").scale == 0


def test_an_asset_sent_again_with_another_scale_already_exists(api: Api) -> None:
    problem = assert_problem(
        api.post("/assets", {"code": "USD", "scale": 3}, role="admin"), 409, "already_exists"
    )
    assert problem["fields"] == ["scale"]


def test_a_writer_opens_an_account_and_a_reader_reads_it(api: Api) -> None:
    body = {"id": "member:00042:USD", "asset": "USD", "no_negative": True, "metadata": {"tier": 2}}
    created = api.post("/accounts", body)
    assert created.status_code == 201, created.text
    read = api.get("/accounts/member:00042:USD")
    assert read.status_code == 200
    account = read.json()
    assert account == created.json()
    assert account["metadata"] == {"tier": 2}
    assert account["no_negative"] is True
    assert account["balances"] == {
        "posted": "0.00",
        "available": "0.00",
        "pending_debits": "0.00",
        "pending_credits": "0.00",
    }


def test_an_account_opened_again_with_other_values_already_exists(
    api: Api, shop: Programme
) -> None:
    response = api.post("/accounts", {"id": shop.wallets[0], "asset": "USD", "no_negative": False})
    assert assert_problem(response, 409, "already_exists")["fields"] == ["no_negative"]


def test_an_account_of_an_unknown_asset_is_not_found(api: Api, ledger: Ledger) -> None:
    problem = assert_problem(api.post("/accounts", {"id": "eur", "asset": "EUR"}), 404, "not_found")
    assert (problem["resource"], problem["id"]) == ("asset", "EUR")
    assert ledger.store.get_account(api.tenant_id, "eur") is None


@pytest.mark.parametrize("path", ["", "/history", "/balance"])
def test_an_unknown_account_is_not_found(api: Api, path: str) -> None:
    problem = assert_problem(api.get(f"/accounts/ghost{path}"), 404, "not_found")
    assert (problem["resource"], problem["id"]) == ("account", "ghost")


def test_history_pages_newest_first_with_the_balance_after_each_entry(
    api: Api, shop: Programme
) -> None:
    wallet, other = shop.wallets
    for n in range(1, 6):
        response = api.post("/transfers", transfer_body(wallet, other, f"{n}.00", ref=f"h{n}"))
        assert response.status_code == 201, response.text
    seen: list[tuple[str, str, str]] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get(f"/accounts/{wallet}/history", params=params).json()
        pages += 1
        seen += [
            (e["transfer"]["id"], e["posted_change"], e["balance_after"]) for e in page["entries"]
        ]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    # 100.00 funded, then 1.00 .. 5.00 paid out: newest first.
    assert seen[:5] == [
        ("h5", "-5.00", "85.00"),
        ("h4", "-4.00", "90.00"),
        ("h3", "-3.00", "94.00"),
        ("h2", "-2.00", "97.00"),
        ("h1", "-1.00", "99.00"),
    ]
    assert seen[5][1:] == ("100.00", "100.00")
    assert len(seen) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "abc"}, "cursor"),
    ],
)
def test_bad_history_parameters_are_validation_errors(
    api: Api, shop: Programme, params: dict[str, object], field: str
) -> None:
    response = api.get(f"/accounts/{shop.wallets[0]}/history", params=params)
    assert field in assert_problem(response, 422, "validation_error")["detail"]


def test_balance_now_shows_holds_and_then_shows_the_posted_balance_as_of_a_time(
    api: Api, shop: Programme, clock: FakeClock
) -> None:
    funded_at = clock()
    clock.advance(hours=1)
    wallet, other = shop.wallets
    paid = api.post("/transfers", transfer_body(wallet, other, "30.00", ref="pay"))
    assert paid.status_code == 201, paid.text
    held = api.post("/transfers", transfer_body(wallet, other, "20.00", ref="hold", pending=True))
    assert held.status_code == 201, held.text

    now = api.get(f"/accounts/{wallet}/balance").json()
    assert now == {
        "account_id": wallet,
        "asset": "USD",
        "at": None,
        "posted": "70.00",
        "available": "50.00",
        "pending_debits": "20.00",
        "pending_credits": "0.00",
    }
    halfway = (funded_at + timedelta(minutes=30)).isoformat()
    then = api.get(f"/accounts/{wallet}/balance", params={"at": halfway}).json()
    assert (then["posted"], then["available"], then["pending_debits"]) == ("100.00", None, None)
    before = (funded_at - timedelta(seconds=1)).isoformat()
    assert api.get(f"/accounts/{wallet}/balance", params={"at": before}).json()["posted"] == "0.00"


@pytest.mark.parametrize("at", ["2026-03-15T12:00:00", "yesterday", "1700000000"])
def test_a_balance_time_needs_an_iso_time_with_an_offset(
    api: Api, shop: Programme, at: str
) -> None:
    response = api.get(f"/accounts/{shop.wallets[0]}/balance", params={"at": at})
    assert "at" in assert_problem(response, 422, "validation_error")["detail"]
