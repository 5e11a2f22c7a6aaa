"""Transfers over HTTP: ids as idempotency keys, replays, conflicts, two-phase, and batches."""

from __future__ import annotations

from typing import Any

import pytest

from rewardledger.domain.transfers import TransferState
from rewardledger.ledger.engine import Ledger
from tests.builders import Programme
from tests.http.support import Api, assert_problem, snapshot, transfer_body

REPLAYED = "idempotent-replayed"


def balances(ledger: Ledger, shop: Programme) -> list[str]:
    return [str(ledger.balance(shop.tenant_id, wallet).posted) for wallet in shop.wallets]


# Single transfers and idempotency --------------------------------------------------------------


def test_a_transfer_is_written_once_and_its_replay_returns_the_first_result(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    body = transfer_body(*shop.wallets, "30.00", ref="pay-1", kind="spend", reason="offer")
    first = api.post("/transfers", body)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    transfer = first.json()
    assert (transfer["id"], transfer["amount"], transfer["state"], transfer["phase"]) == (
        "pay-1",
        "30.00",
        "posted",
        "single",
    )
    assert (transfer["debit_balance_after"], transfer["credit_balance_after"]) == ("70.00", "30.00")
    replay = api.post("/transfers", body)
    assert replay.status_code == 200
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == transfer
    assert balances(ledger, shop) == ["70.00", "30.00"]


def test_the_idempotency_key_header_names_the_transfer(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    body = transfer_body(*shop.wallets, "5.00")
    response = api.post("/transfers", body, headers={"Idempotency-Key": "from-header"})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == "from-header"
    same = api.post(
        "/transfers", body | {"ref": "from-header"}, headers={"Idempotency-Key": "from-header"}
    )
    assert (same.status_code, same.headers[REPLAYED]) == (200, "true")
    assert ledger.get_transfer(shop.tenant_id, "from-header").amount_minor == 500


def test_a_header_and_a_ref_that_differ_are_refused(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    body = transfer_body(*shop.wallets, "5.00", ref="the-ref")
    response = api.post("/transfers", body, headers={"Idempotency-Key": "the-header"})
    problem = assert_problem(response, 422, "validation_error")
    assert "the-ref" in problem["detail"]
    assert "the-header" in problem["detail"]
    for identifier in ("the-ref", "the-header"):
        assert ledger.store.get_transfer(shop.tenant_id, identifier) is None


def test_a_transfer_without_an_id_is_refused_with_how_to_send_one(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    before = snapshot(ledger, shop.tenant_id, shop.wallets)
    problem = assert_problem(
        api.post("/transfers", transfer_body(*shop.wallets, "5.00")), 422, "validation_error"
    )
    assert "Idempotency-Key" in problem["detail"]
    assert "idempotency_key" in problem["detail"]
    assert snapshot(ledger, shop.tenant_id, shop.wallets) == before


def test_reusing_an_id_for_another_transfer_is_a_conflict_naming_the_fields(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    assert (
        api.post("/transfers", transfer_body(*shop.wallets, "5.00", ref="once")).status_code == 201
    )
    other = transfer_body(shop.wallets[0], shop.funding, "6.00", ref="once")
    problem = assert_problem(api.post("/transfers", other), 409, "idempotency_conflict")
    assert problem["fields"] == ["amount", "credit_account_id"]
    assert problem["id"] == "once"
    assert balances(ledger, shop) == ["95.00", "5.00"]


def test_a_refusal_is_recorded_and_its_replay_is_the_same_refusal(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    body = transfer_body(*shop.wallets, "500.00", ref="too-much")
    first = assert_problem(api.post("/transfers", body), 422, "insufficient_funds")
    assert (first["available"], first["amount"], first["replayed"]) == ("100.00", "500.00", False)
    # Even once the money is there, the id keeps its first answer (invariant 7).
    api.post("/transfers", transfer_body(shop.funding, shop.wallets[0], "1000.00", ref="top-up"))
    replay = api.post("/transfers", body)
    second = assert_problem(replay, 422, "insufficient_funds")
    assert replay.headers[REPLAYED] == "true"
    assert second["detail"] == first["detail"]
    assert second | {"replayed": False} == first
    assert balances(ledger, shop) == ["1100.00", "0.00"]


def test_a_dry_run_answers_without_writing(api: Api, ledger: Ledger, shop: Programme) -> None:
    body = transfer_body(*shop.wallets, "40.00", ref="maybe")
    trial = api.post("/transfers", body | {"dry_run": True})
    assert trial.status_code == 200, trial.text
    assert trial.json()["credit_balance_after"] == "40.00"
    assert balances(ledger, shop) == ["100.00", "0.00"]
    assert ledger.store.get_transfer(shop.tenant_id, "maybe") is None
    assert api.post("/transfers", body).status_code == 201
    refused = api.post("/transfers", transfer_body(*shop.wallets, "99.00", ref="no", dry_run=True))
    assert_problem(refused, 422, "insufficient_funds")
    assert ledger.store.get_transfer(shop.tenant_id, "no") is None


def test_a_transfer_carries_its_metadata_kind_reason_and_effective_time(
    api: Api, shop: Programme
) -> None:
    body = transfer_body(
        shop.funding,
        shop.wallets[1],
        "2.50",
        ref="earn-1",
        kind="earn",
        reason="invoice",
        effective_at="2026-03-01T02:00:00Z",
        metadata={"invoice": "F-001", "lines": [1, 2]},
    )
    created = api.post("/transfers", body).json()
    read = api.get("/transfers/earn-1")
    assert read.status_code == 200
    assert read.json() == created
    assert (created["kind"], created["reason"], created["metadata"]) == (
        "earn",
        "invoice",
        {"invoice": "F-001", "lines": [1, 2]},
    )
    assert created["effective_at"] == "2026-03-01T02:00:00Z"
    # 02:00 UTC on 1 March is still February in the tenant's time zone (America/Panama).
    assert created["cycle_tag"] == "2026-02"


def test_an_unknown_transfer_is_not_found(api: Api) -> None:
    problem = assert_problem(api.get("/transfers/nope"), 404, "not_found")
    assert (problem["resource"], problem["id"]) == ("transfer", "nope")


# Two-phase ------------------------------------------------------------------------------------


def hold(
    api: Api, shop: Programme, ref: str, amount: str = "30.00", **fields: Any
) -> dict[str, Any]:
    response = api.post(
        "/transfers", transfer_body(*shop.wallets, amount, ref=ref, pending=True, **fields)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_pending_transfer_holds_then_posts_in_part_once(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    pending = hold(api, shop, "h1", timeout_seconds=3600)
    assert (pending["state"], pending["resolved_by"], pending["expires_at"]) == (
        "pending",
        None,
        "2026-03-15T13:00:00Z",
    )
    post = api.post(
        "/transfers/h1/post", {"amount": "12.00"}, headers={"Idempotency-Key": "charge-1"}
    )
    assert post.status_code == 201, post.text
    assert (post.json()["id"], post.json()["amount"], post.json()["pending_id"]) == (
        "charge-1",
        "12.00",
        "h1",
    )
    again = api.post(
        "/transfers/h1/post", {"amount": "12.00"}, headers={"Idempotency-Key": "charge-1"}
    )
    assert (again.status_code, again.headers[REPLAYED], again.json()) == (200, "true", post.json())
    read = api.get("/transfers/h1").json()
    assert (read["state"], read["resolved_by"]) == ("posted", "charge-1")
    problem = assert_problem(api.post("/transfers/h1/void"), 409, "not_pending")
    assert problem["resolved_by"] == "charge-1"
    assert balances(ledger, shop) == ["88.00", "12.00"]


def test_posting_without_a_body_posts_in_full_under_a_derived_id(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    hold(api, shop, "h2")
    post = api.post("/transfers/h2/post")
    assert post.status_code == 201, post.text
    assert (post.json()["id"], post.json()["amount"]) == ("h2.post", "30.00")
    assert balances(ledger, shop) == ["70.00", "30.00"]


def test_voiding_releases_the_hold(api: Api, ledger: Ledger, shop: Programme) -> None:
    hold(api, shop, "h3")
    assert api.get(f"/accounts/{shop.wallets[0]}/balance").json()["available"] == "70.00"
    void = api.post("/transfers/h3/void", {"metadata": {"why": "cancelled"}})
    assert void.status_code == 201, void.text
    assert (void.json()["id"], void.json()["metadata"]) == ("h3.void", {"why": "cancelled"})
    assert ledger.get_transfer(shop.tenant_id, "h3").state is TransferState.VOIDED
    assert api.get(f"/accounts/{shop.wallets[0]}/balance").json()["available"] == "100.00"


def test_posting_more_than_held_is_refused_and_the_hold_stays(api: Api, shop: Programme) -> None:
    hold(api, shop, "h4")
    problem = assert_problem(
        api.post("/transfers/h4/post", {"amount": "30.01"}), 422, "exceeds_pending_amount"
    )
    assert (problem["amount"], problem["pending_amount"]) == ("30.01", "30.00")
    assert api.get("/transfers/h4").json()["state"] == "pending"


def test_resolving_what_is_not_pending_is_refused(api: Api, shop: Programme) -> None:
    assert_problem(api.post("/transfers/ghost/post"), 409, "not_pending")
    assert (
        api.post("/transfers", transfer_body(*shop.wallets, "1.00", ref="single")).status_code
        == 201
    )
    assert_problem(api.post("/transfers/single/void"), 409, "not_pending")


def test_a_dry_run_post_leaves_the_hold_pending(api: Api, shop: Programme) -> None:
    hold(api, shop, "h5")
    trial = api.post("/transfers/h5/post", {"dry_run": True})
    assert trial.status_code == 200, trial.text
    assert api.get("/transfers/h5").json()["state"] == "pending"


# Batches ---------------------------------------------------------------------------------------


def test_an_atomic_batch_applies_every_transfer_with_ids_derived_from_its_key(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    items = [
        transfer_body(*shop.wallets, "10.00"),
        transfer_body(*shop.wallets, "20.00", ref="named"),
        transfer_body(*shop.wallets, "30.00"),
    ]
    response = api.post("/transfers/batch", {"transfers": items}, headers={"Idempotency-Key": "b1"})
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["atomic"], result["dry_run"]) == (True, False)
    assert [(r["index"], r["id"], r["ok"]) for r in result["results"]] == [
        (0, "b1.0", True),
        (1, "named", True),
        (2, "b1.2", True),
    ]
    assert result["results"][2]["transfer"]["debit_balance_after"] == "40.00"
    assert balances(ledger, shop) == ["40.00", "60.00"]
    replay = api.post("/transfers/batch", {"transfers": items}, headers={"Idempotency-Key": "b1"})
    assert (replay.status_code, replay.headers[REPLAYED]) == (200, "true")
    assert [r["transfer"] for r in replay.json()["results"]] == [
        r["transfer"] for r in result["results"]
    ]
    assert all(r["replayed"] for r in replay.json()["results"])
    assert balances(ledger, shop) == ["40.00", "60.00"]


def test_an_atomic_batch_with_a_refused_item_applies_none_and_says_which(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    before = snapshot(ledger, shop.tenant_id, shop.wallets)
    items = [
        transfer_body(*shop.wallets, "10.00", ref="a1"),
        transfer_body(*shop.wallets, "95.00", ref="a2"),
    ]
    problem = assert_problem(
        api.post("/transfers/batch", {"transfers": items}), 422, "batch_failed"
    )
    assert (problem["failed_index"], problem["failed_id"], problem["failed_code"]) == (
        1,
        "a2",
        "insufficient_funds",
    )
    assert [(r["ok"], r["error"]["code"]) for r in problem["results"]] == [
        (False, "batch_failed"),
        (False, "insufficient_funds"),
    ]
    assert snapshot(ledger, shop.tenant_id, shop.wallets) == before
    replay = api.post("/transfers/batch", {"transfers": items})
    assert assert_problem(replay, 422, "batch_failed")["failed_id"] == "a2"
    assert replay.headers[REPLAYED] == "true"


def test_a_non_atomic_batch_answers_each_item_on_its_own(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    items = [
        transfer_body(*shop.wallets, "60.00", ref="n1"),
        transfer_body(*shop.wallets, "60.00", ref="n2"),
        transfer_body(*shop.wallets, "40.00", ref="n3"),
    ]
    response = api.post("/transfers/batch", {"transfers": items, "atomic": False})
    assert response.status_code == 201, response.text
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["transfer"] is None
    assert results[1]["error"]["code"] == "insufficient_funds"
    assert results[1]["error"]["available"] == "40.00"
    assert balances(ledger, shop) == ["0.00", "100.00"]


def test_a_non_atomic_batch_that_writes_nothing_answers_200(api: Api, shop: Programme) -> None:
    items = [transfer_body(*shop.wallets, "500.00", ref="x1")]
    response = api.post("/transfers/batch", {"transfers": items, "atomic": False})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["error"]["code"] == "insufficient_funds"


def test_a_dry_run_batch_writes_nothing(api: Api, ledger: Ledger, shop: Programme) -> None:
    items = [transfer_body(*shop.wallets, "10.00", ref="d1")]
    response = api.post("/transfers/batch", {"transfers": items, "dry_run": True})
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert response.json()["results"][0]["ok"] is True
    assert ledger.store.get_transfer(shop.tenant_id, "d1") is None


def test_batch_items_without_a_ref_need_an_idempotency_key(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    items = [
        transfer_body(*shop.wallets, "1.00", ref="r0"),
        transfer_body(*shop.wallets, "1.00"),
        transfer_body(*shop.wallets, "1.00"),
    ]
    problem = assert_problem(
        api.post("/transfers/batch", {"transfers": items}), 422, "validation_error"
    )
    assert [e["field"] for e in problem["errors"]] == [
        "transfers[1].idempotency_key",
        "transfers[2].idempotency_key",
    ]
    assert "Idempotency-Key" in problem["detail"]
    assert ledger.store.get_transfer(shop.tenant_id, "r0") is None


@pytest.mark.parametrize(
    "body",
    [{"transfers": []}, {"transfers": {}}, {"atomic": True}, {"transfers": [{}], "atomic": "no"}],
)
def test_a_batch_of_the_wrong_shape_is_a_validation_error(api: Api, body: dict[str, Any]) -> None:
    assert_problem(api.post("/transfers/batch", body), 422, "validation_error")


def test_the_jobs_run_expires_due_holds_once(api: Api, ledger: Ledger, shop: Programme) -> None:
    hold(api, shop, "h-due", timeout_seconds=60)
    hold(api, shop, "h-later", timeout_seconds=7200)
    ledger.clock.advance(seconds=120)  # type: ignore[attr-defined]
    first = api.post("/jobs/run")
    assert first.status_code == 200, first.text
    assert first.json()["steps"]["holds"] == {"holds_expired": 1}
    assert api.post("/jobs/run").json()["steps"]["holds"] == {"holds_expired": 0}
    assert api.get("/transfers/h-due").json()["state"] == "expired"
    assert api.get("/transfers/h-later").json()["state"] == "pending"
