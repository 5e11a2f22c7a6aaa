"""HTTP API of the cashback and debt ledgers: the seeds' columns as decimal strings, CSV
exports with the seeds' column names, replays, and refusals as problems."""

from __future__ import annotations

import csv
import io

from rewardledger.ledger.engine import Ledger
from tests.http.support import Api, assert_problem
from tests.services.cycles_support import clear_the_bad_mark, plant_an_uncomputable_cycle


def _set_up(api: Api) -> None:
    admin = api.auth("admin")
    program = {"currency": "USD", "minimum_spend": "100.00", "default_cap": "10.00"}
    response = api.client.put(api.url("/cashback/program"), json=program, headers=admin)
    assert response.status_code == 200, response.text
    response = api.client.put(api.url("/debt/program"), json={"currency": "USD"}, headers=admin)
    assert response.status_code == 200, response.text
    response = api.client.put(
        api.url("/cycles/settings"), json={"refresh_mode": "inline"}, headers=admin
    )
    assert response.json() == {"refresh_mode": "inline"}


def test_an_accrual_past_the_cap_is_credited_up_to_it_and_shown_in_the_seeds_columns(
    api: Api,
) -> None:
    _set_up(api)
    body = {"id": "buy-1", "account_id": "card-1", "spend": "300.00", "cashback": "12.00"}
    created = api.post("/cashback/movements", body)
    assert created.status_code == 201, created.text
    assert (created.json()["requested_cashback"], created.json()["cashback_amount"]) == (
        "12.00",
        "10.00",
    )
    replayed = api.post("/cashback/movements", body)
    assert replayed.status_code == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    row = api.get("/cashback/ledger/card-1/2026-03").json()
    assert {key: row[key] for key in ("total_spend", "total_cashback", "budget_cap")} == {
        "total_spend": "300.00",
        "total_cashback": "10.00",
        "budget_cap": "10.00",
    }
    assert (row["eligibility"], row["remaining_budget"], row["status"]) == (
        "reached_cap",
        "0.00",
        "open",
    )
    conflict = api.post("/cashback/movements", {**body, "cashback": "1.00"})
    assert_problem(conflict, 409, "idempotency_conflict")


def test_the_ledgers_filter_paginate_and_export_csv_with_the_seeds_columns(api: Api) -> None:
    _set_up(api)
    for index in range(3):
        body = {
            "id": f"b{index}",
            "account_id": f"card-{index}",
            "spend": "5.00",
            "cashback": "1.00",
        }
        assert api.post("/cashback/movements", body).status_code == 201
    first = api.get("/cashback/ledger", params={"limit": 2}).json()
    assert [row["account_id"] for row in first["rows"]] == ["card-0", "card-1"]
    second = api.get("/cashback/ledger", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [row["account_id"] for row in second.json()["rows"]] == ["card-2"]
    assert second.json()["next_cursor"] is None
    pending = api.get("/cashback/ledger", params={"eligibility": "pending", "account": "card-1"})
    assert [row["account_id"] for row in pending.json()["rows"]] == ["card-1"]
    exported = api.get("/cashback/ledger", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == [
        "cashback_ledger_id",
        "account_id",
        "cycle_tag",
        "total_spend",
        "total_cashback",
        "budget_cap",
        "eligibility",
        "remaining_budget",
        "status",
        "notes",
        "last_updated",
    ]
    assert [(row["account_id"], row["total_cashback"]) for row in rows] == [
        ("card-0", "1.00"),
        ("card-1", "1.00"),
        ("card-2", "1.00"),
    ]


def test_debt_movements_feed_the_debt_ledger_and_its_csv(api: Api) -> None:
    _set_up(api)
    for index, (kind, amount) in enumerate((("opening", "50.00"), ("repayment", "20.00"))):
        body = {"id": f"d{index}", "person_id": "ana", "kind": kind, "amount": amount}
        assert api.post("/debt/movements", body).status_code == 201
    row = api.get("/debt/ledger/ana/2026-03").json()
    assert (row["initial_debt"], row["repayments"], row["net_debt"], row["status"]) == (
        "50.00",
        "20.00",
        "30.00",
        "partial",
    )
    exported = api.get("/debt/ledger", params={"format": "csv", "status": "partial"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["person_id"], row["net_debt"]) for row in rows] == [("ana", "30.00")]
    assert "debt_discount" in rows[0]


def test_applying_an_open_cycles_cashback_is_a_conflict_problem(api: Api) -> None:
    _set_up(api)
    body = {"id": "buy-1", "account_id": "card-1", "spend": "300.00", "cashback": "2.00"}
    assert api.post("/cashback/movements", body).status_code == 201
    response = api.post("/cashback/ledger/card-1/2026-03/apply-to-debt", {"person_id": "ana"})
    problem = assert_problem(response, 409, "cycle_not_closed")
    assert problem["cycle_tag"] == "2026-03"


def test_a_movement_before_the_programme_is_a_conflict_problem(api: Api) -> None:
    body = {"id": "d1", "person_id": "ana", "kind": "charge", "amount": "1.00"}
    assert_problem(api.post("/debt/movements", body), 409, "program_not_configured")


def test_a_refresh_in_job_mode_fills_the_ledger(api: Api) -> None:
    _set_up(api)
    api.client.put(
        api.url("/cycles/settings"), json={"refresh_mode": "job"}, headers=api.auth("admin")
    )
    body = {"id": "buy-1", "account_id": "card-1", "spend": "1.00", "cashback": "0.10"}
    api.post("/cashback/movements", body)
    assert api.get("/cashback/ledger").json()["rows"] == []
    assert api.post("/cycles/refresh").json() == {"pairs": 1, "rows_changed": 1}
    assert len(api.get("/cashback/ledger").json()["rows"]) == 1
    rebuilt = api.post("/cycles/rebuild", role="admin").json()
    assert rebuilt == {"pairs": 1, "rows_changed": 0}


def test_a_row_not_refreshed_yet_is_a_404_that_says_how_to_refresh_it(api: Api) -> None:
    _set_up(api)
    api.client.put(
        api.url("/cycles/settings"), json={"refresh_mode": "job"}, headers=api.auth("admin")
    )
    body = {"id": "d1", "person_id": "ana", "kind": "charge", "amount": "5.00"}
    assert api.post("/debt/movements", body).status_code == 201
    waiting = assert_problem(api.get("/debt/ledger/ana/2026-03"), 404, "not_found")
    assert "/cycles/refresh" in waiting["detail"]
    # A pair without movements has no row to wait for: no hint to refresh.
    nothing = assert_problem(api.get("/debt/ledger/bob/2026-03"), 404, "not_found")
    assert "refresh" not in nothing["detail"]
    api.post("/cycles/refresh")
    assert api.get("/debt/ledger/ana/2026-03").json()["new_debt"] == "5.00"


def test_a_cycle_tag_outside_the_computable_years_is_a_validation_problem(api: Api) -> None:
    _set_up(api)
    for tag in ("0000-01", "9999-12"):
        debt_body = {"id": "d1", "person_id": "ana", "kind": "charge", "amount": "1.00"}
        response = api.post("/debt/movements", {**debt_body, "cycle_tag": tag})
        assert_problem(response, 422, "validation_error")
        cashback_body = {"id": "b1", "account_id": "card-1", "spend": "1.00", "cashback": "0.10"}
        response = api.post("/cashback/movements", {**cashback_body, "cycle_tag": tag})
        assert_problem(response, 422, "validation_error")
        assert_problem(api.get(f"/debt/ledger/ana/{tag}"), 422, "validation_error")
    assert api.post("/cycles/refresh").json() == {"pairs": 0, "rows_changed": 0}
    assert api.post("/jobs/run").status_code == 200


def test_a_failing_step_is_listed_in_the_jobs_run_answer_and_under_failures(
    api: Api, ledger: Ledger
) -> None:
    _set_up(api)
    # A tag the edge now refuses, as main stored it: written behind the ledger's back.
    plant_an_uncomputable_cycle(ledger, api.tenant_id)
    response = api.post("/jobs/run")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["failures"] == [
        {
            "step": "cycles",
            "code": "internal_error",
            "message": "ValueError: year 0 is out of range",
            "attempts": 1,
        }
    ]
    assert set(body["steps"]) == {"holds", "budgets", "points"}
    assert api.post("/jobs/run").json()["failures"][0]["attempts"] == 2
    listed = api.get("/jobs/failures")
    assert listed.status_code == 200, listed.text
    (failure,) = listed.json()["failures"]
    assert (failure["step"], failure["attempts"], failure["resolved_at"]) == ("cycles", 2, None)

    clear_the_bad_mark(ledger, api.tenant_id)
    assert api.post("/jobs/run").json()["failures"] == []
    assert api.get("/jobs/failures").json() == {"failures": [], "next_cursor": None}
    history = api.get("/jobs/failures", params={"include_resolved": "true"}).json()["failures"]
    assert [f["resolved_at"] is not None for f in history] == [True]
    assert_problem(api.get("/jobs/failures", params={"limit": 0}), 422, "validation_error")
