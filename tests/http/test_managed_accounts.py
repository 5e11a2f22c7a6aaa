"""A points wallet refuses a raw ``POST /transfers``: the points check stays OK (issue 10).

Before accounts carried ``managed_by``, a plain transfer onto ``pts:LUMIS:<holder>`` was
accepted and left the holder at MISMATCH (lots 60, balance 50) while the core integrity check
said ok.
"""

from __future__ import annotations

from rewardledger.ledger.engine import Ledger
from rewardledger.services import points
from tests.builders import Programme
from tests.http.support import Api, assert_problem, transfer_body

WALLET = "pts:LUMIS:m1"
POOL = "lumis:pool"


def _member_with_50_points(api: Api, ledger: Ledger, shop: Programme) -> None:
    points.configure(ledger, shop.tenant_id)
    ledger.create_account(shop.tenant_id, POOL, asset="LUMIS")
    earned = api.post("/points/m1/earn", {"amount": "50", "dtype": "invoice", "reference": "e1"})
    assert earned.status_code == 201, earned.text


def test_a_raw_transfer_onto_a_points_wallet_is_refused_and_the_points_check_stays_ok(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    _member_with_50_points(api, ledger, shop)
    body = transfer_body(POOL, WALLET, "10", ref="raw-1", asset="LUMIS")
    problem = assert_problem(api.post("/transfers", body), 409, "managed_account")
    assert problem["account_id"] == WALLET
    assert problem["managed_by"] == "points"
    assert "points earn or spend" in problem["detail"]
    # Not recorded (the id may be a service's own): sent again, it is refused afresh.
    again = assert_problem(api.post("/transfers", body), 409, "managed_account")
    assert again["replayed"] is False
    assert api.get("/points/integrity").json() == {"holders": [], "next_cursor": None}
    assert api.get(f"/accounts/{WALLET}").json()["balances"]["posted"] == "50"
    assert api.get("/integrity").json()["ok"] is True


def test_a_raw_transfer_out_of_a_points_wallet_is_refused_too(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    _member_with_50_points(api, ledger, shop)
    body = transfer_body(WALLET, POOL, "10", ref="raw-out", asset="LUMIS")
    assert_problem(api.post("/transfers", body), 409, "managed_account")
    assert api.get(f"/accounts/{WALLET}").json()["balances"]["posted"] == "50"


def test_in_a_batch_only_the_item_onto_a_managed_account_is_refused(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    _member_with_50_points(api, ledger, shop)
    items = [
        transfer_body(*shop.wallets, "1.00", ref="plain"),
        transfer_body(POOL, WALLET, "5", ref="onto-wallet", asset="LUMIS"),
    ]
    answer = api.post("/transfers/batch", {"transfers": items, "atomic": False})
    assert answer.status_code == 201, answer.text
    codes = [(r["error"] or {}).get("code") for r in answer.json()["results"]]
    assert codes == [None, "managed_account"]
    assert api.get("/points/integrity").json() == {"holders": [], "next_cursor": None}


def test_a_points_wallet_says_who_manages_it_and_the_points_calls_still_move_it(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    _member_with_50_points(api, ledger, shop)
    assert api.get(f"/accounts/{WALLET}").json()["managed_by"] == "points"
    assert api.get(f"/accounts/{shop.wallets[0]}").json()["managed_by"] is None
    spent = api.post("/points/m1/spend", {"amount": "20", "dtype": "points", "reference": "s1"})
    assert spent.status_code == 201, spent.text
    assert api.get(f"/accounts/{WALLET}").json()["balances"]["posted"] == "30"
    assert api.get("/points/integrity").json() == {"holders": [], "next_cursor": None}
