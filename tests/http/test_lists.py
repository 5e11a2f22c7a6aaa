"""The lists of accounts, transfers, a budget's reservations and corrections, and alerts: each
pages by cursor, returns every row exactly once in its order, refuses a cursor it did not give,
and never shows another tenant's rows. Runs on SQLite and PostgreSQL (the ``ledger`` fixture).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from rewardledger.domain.paging import encode_cursor
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets
from rewardledger.services.access import issue_key
from tests.builders import FakeClock, Programme, fund, programme
from tests.http.support import Api, assert_problem


def _walk(api: Api, path: str, rows: str, key: Callable[[dict[str, Any]], Any], **params: Any):
    """Every row of the list at ``path``, two at a time, and how many pages it took."""
    seen: list[Any] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert len(body[rows]) <= 2
        seen.extend(key(row) for row in body[rows])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages
        assert body[rows], "a page with a cursor after it has rows"


@pytest.fixture
def other(ledger: Ledger) -> Programme:
    """Another tenant with the same names: its rows must never appear in ``api``'s lists."""
    tenant = f"o{secrets.token_hex(6)}"
    ledger.create_tenant(tenant)
    p = programme(ledger, tenant, wallets=3)
    fund(ledger, p, p.wallets[0], "9.00")
    budgets.create_budget(ledger, tenant, "camp", currency="USD", hard_cap="50.00")
    budgets.topup(ledger, tenant, "camp", amount="50.00", currency="USD", idempotency_key="t")
    budgets.reserve(ledger, tenant, "camp", reference="other-hold", amount="45.00", currency="USD")
    return p


def test_accounts_page_by_id_each_once(
    api: Api, ledger: Ledger, shop: Programme, other: Programme
) -> None:
    for i in range(5):
        ledger.create_account(api.tenant_id, f"member:{i}", asset="USD")
    ids, pages = _walk(api, "/accounts", "accounts", lambda row: row["id"])
    expected = sorted([shop.funding, *shop.wallets, *(f"member:{i}" for i in range(5))])
    assert ids == expected
    assert pages == 4  # 8 accounts, 2 a page: the last page says so (no empty page after it)
    assert "wallet:2:USD" not in ids  # the other tenant's third wallet
    wallet = next(
        row
        for row in api.get("/accounts", params={"limit": 500}).json()["accounts"]
        if row["id"] == shop.wallets[0]
    )
    assert wallet["balances"]["posted"] == "100.00"


def test_accounts_filter_by_asset(api: Api, ledger: Ledger, shop: Programme) -> None:
    ledger.create_asset(api.tenant_id, "LUMIS", scale=0)
    ledger.create_account(api.tenant_id, "points:1", asset="LUMIS")
    ids, _ = _walk(api, "/accounts", "accounts", lambda row: row["id"], asset="LUMIS")
    assert ids == ["points:1"]


def test_transfers_page_newest_first_each_once(
    api: Api, ledger: Ledger, clock: FakeClock, shop: Programme, other: Programme
) -> None:
    made = []
    for i in range(7):
        if i % 3 == 0:  # several share one created_at: the id breaks the tie
            clock.advance(seconds=1)
        body = {
            "debit_account_id": shop.wallets[0],
            "credit_account_id": shop.wallets[1],
            "asset": "USD",
            "amount": "1.00",
            "kind": "move" if i % 2 else "gift",
        }
        response = api.post("/transfers", body, headers={"Idempotency-Key": f"move-{i}"})
        assert response.status_code == 201, response.text
        made.append((response.json()["created_at"], f"move-{i}"))
    ids, _ = _walk(api, "/transfers", "transfers", lambda row: row["id"])
    expected = [tid for _, tid in sorted(made, reverse=True)]
    assert ids[: len(expected)] == expected
    assert len(ids) == len(set(ids)) == len(expected) + 1  # and the fixture's funding
    assert set(ids) & {t["id"] for t in _other_transfers(ledger, other)} == set()
    gifts, _ = _walk(api, "/transfers", "transfers", lambda row: row["id"], kind="gift")
    assert gifts == [f"move-{i}" for i in (6, 4, 2, 0)]


def _other_transfers(ledger: Ledger, other: Programme) -> list[dict[str, str]]:
    from rewardledger.ledger import lists

    return [{"id": t.id} for t in lists.list_transfers(ledger, other.tenant_id).transfers]


def test_transfers_filter_by_account_and_time(
    api: Api, ledger: Ledger, clock: FakeClock, shop: Programme
) -> None:
    start = clock.advance(seconds=10)
    for i in range(3):
        clock.advance(minutes=1)
        body = {
            "debit_account_id": shop.wallets[0],
            "credit_account_id": shop.wallets[1],
            "asset": "USD",
            "amount": "2.00",
        }
        assert api.post("/transfers", body, headers={"Idempotency-Key": f"t-{i}"}).is_success
    ids, _ = _walk(api, "/transfers", "transfers", lambda r: r["id"], account=shop.wallets[1])
    assert ids == ["t-2", "t-1", "t-0"]
    window = {
        "from": (start + timedelta(minutes=1)).isoformat(),
        "to": (start + timedelta(minutes=3)).isoformat(),
    }
    ids, _ = _walk(api, "/transfers", "transfers", lambda r: r["id"], **window)
    assert ids == ["t-1", "t-0"]
    backwards = {"from": window["to"], "to": window["from"]}
    assert_problem(api.get("/transfers", params=backwards), 422, "validation_error")


def test_reservations_page_by_reference_with_their_states(
    api: Api, ledger: Ledger, shop: Programme, other: Programme
) -> None:
    tid = api.tenant_id
    budgets.create_budget(ledger, tid, "camp", currency="USD", hard_cap="1000.00")
    budgets.topup(ledger, tid, "camp", amount="100.00", currency="USD", idempotency_key="t")
    for ref in ("r-e", "r-a", "r-d", "r-b", "r-c"):
        budgets.reserve(ledger, tid, "camp", reference=ref, amount="5.00", currency="USD")
    budgets.charge(ledger, tid, "camp", "r-a", amount="3.00")
    budgets.release(ledger, tid, "camp", "r-b")
    rows, pages = _walk(
        api,
        "/budgets/camp/reservations",
        "reservations",
        lambda r: (r["reference"], r["state"], r["charged_amount"]),
    )
    assert pages == 3
    assert rows == [
        ("r-a", "charged", "3.00"),
        ("r-b", "released", None),
        ("r-c", "reserved", None),
        ("r-d", "reserved", None),
        ("r-e", "reserved", None),
    ]  # never the other tenant's "other-hold" under its own budget "camp"
    assert_problem(api.get("/budgets/nope/reservations"), 404, "not_found")


def test_corrections_page_in_the_order_made(
    api: Api, ledger: Ledger, clock: FakeClock, shop: Programme, other: Programme
) -> None:
    tid = api.tenant_id
    budgets.create_budget(ledger, tid, "camp", currency="USD", hard_cap="1000.00")
    topup = budgets.topup(ledger, tid, "camp", amount="100.00", currency="USD", idempotency_key="t")
    made = []
    for i in range(5):
        if i % 2 == 0:
            clock.advance(seconds=1)
        view = budgets.correct(
            ledger,
            tid,
            "camp",
            reverses=topup.transfer_id,
            note=f"fix {i}",
            actor="finance",
            idempotency_key=f"c-{i}",
            amount="1.00",
        )
        made.append(view.transfer_id)
    rows, pages = _walk(api, "/budgets/camp/corrections", "corrections", lambda r: r["transfer_id"])
    assert rows == made
    assert pages == 3
    notes, _ = _walk(api, "/budgets/camp/corrections", "corrections", lambda r: r["note"])
    assert notes == [f"fix {i}" for i in range(5)]


def _alert_key(row: dict[str, Any]) -> tuple[str, str, int | None, str]:
    return (row["budget_id"], row["kind"], row["threshold_percent"], row["period"])


def test_alerts_page_newest_first_each_once(
    api: Api, ledger: Ledger, clock: FakeClock, shop: Programme, other: Programme
) -> None:
    tid = api.tenant_id
    for n in range(3):
        clock.advance(seconds=1)
        bid = f"camp-{n}"
        budgets.create_budget(
            ledger, tid, bid, currency="USD", hard_cap="100.00", alert_thresholds=(50, 75)
        )
        budgets.topup(ledger, tid, bid, amount="100.00", currency="USD", idempotency_key="t")
        budgets.reserve(ledger, tid, bid, reference="big", amount="95.00", currency="USD")
    every = budgets.alerts(ledger, tid, limit=500)
    assert len(every) >= 6  # two thresholds and the soft cap, per budget
    rows, _ = _walk(api, "/alerts", "alerts", _alert_key)
    assert rows == [(a.budget_id, a.kind, a.threshold_percent, a.period) for a in every]
    assert len(set(rows)) == len(rows) == len(every)
    assert "camp" not in {budget for budget, *_ in rows}  # the other tenant's budget
    created = [a.created_at for a in every]
    assert created == sorted(created, reverse=True)
    one, _ = _walk(api, "/alerts", "alerts", lambda a: a["budget_id"], budget_id="camp-1")
    assert set(one) == {"camp-1"}
    assert len(one) == len([a for a in every if a.budget_id == "camp-1"])
    other_key = issue_key(ledger, other.tenant_id, "reader").key
    theirs = api.client.get(
        f"/v1/tenants/{other.tenant_id}/alerts",
        headers={"Authorization": f"Bearer {other_key}"},
    ).json()["alerts"]
    assert theirs
    assert all(a["budget_id"] == "camp" for a in theirs)


BAD_CURSORS = [
    "not-a-cursor",
    encode_cursor(1, 2, 3, 4, 5, 6),  # well formed, but not this list's shape
    "!!!",  # not even base64url: the route's pattern refuses it
]
LISTS = [
    "/accounts",
    "/transfers",
    "/budgets/camp/reservations",
    "/budgets/camp/corrections",
    "/alerts",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_cursor_the_list_did_not_give_is_a_clear_validation_error(
    api: Api, ledger: Ledger, shop: Programme, path: str, cursor: str
) -> None:
    budgets.create_budget(ledger, api.tenant_id, "camp", currency="USD", hard_cap="10.00")
    problem = assert_problem(api.get(path, params={"cursor": cursor}), 422, "validation_error")
    assert "cursor" in str(problem)


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_of_another_list_is_refused(
    api: Api, ledger: Ledger, shop: Programme, path: str
) -> None:
    """Each list's cursor has its own shape: one of another list is not taken as a position."""
    budgets.create_budget(ledger, api.tenant_id, "camp", currency="USD", hard_cap="10.00")
    shapes = {
        "/accounts": encode_cursor(5, "x"),
        "/transfers": encode_cursor("wallet:0:USD"),
        "/budgets/camp/reservations": encode_cursor(5, "x"),
        "/budgets/camp/corrections": encode_cursor("r-1"),
        "/alerts": encode_cursor(5, "x"),
    }
    problem = assert_problem(
        api.get(path, params={"cursor": shapes[path]}), 422, "validation_error"
    )
    assert "next_cursor" in problem["detail"]
