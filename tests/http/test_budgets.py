"""Budgets over HTTP: the whole flow, replays answered 200, refusals as problems, CSV."""

from __future__ import annotations

import csv
import io

from tests.http.support import Api, assert_problem


def _create(api: Api) -> None:
    body = {
        "id": "spring",
        "currency": "USD",
        "hard_cap": "1000.00",
        "soft_cap": "500.00",
        "period": "monthly",
    }
    response = api.post("/budgets", body, role="admin")
    assert response.status_code == 201, response.text
    assert response.json()["alert_thresholds"] == [80, 95]
    topup = {"amount": "2000.00", "currency": "USD"}
    response = api.post("/budgets/spring/topup", topup, headers={"Idempotency-Key": "t1"})
    assert response.status_code == 201, response.text


def test_a_budget_is_funded_reserved_charged_and_released_over_http(api: Api) -> None:
    _create(api)
    reserve = {"reference": "iss-1", "amount": "600.00", "currency": "USD"}
    first = api.post("/budgets/spring/reservations", reserve)
    replay = api.post("/budgets/spring/reservations", reserve)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    other = {"reference": "iss-2", "amount": "100.00", "currency": "USD"}
    assert api.post("/budgets/spring/reservations", other).status_code == 201
    charged = api.post("/budgets/spring/reservations/iss-1/charge", {"amount": "550.00"})
    assert charged.json()["state"] == "charged"
    released = api.post("/budgets/spring/reservations/iss-2/release", {})
    assert released.json()["state"] == "released"
    figures = api.get("/budgets/spring/utilization").json()
    assert (figures["charged"], figures["used"], figures["remaining"]) == (
        "550.00",
        "550.00",
        "450.00",
    )
    assert figures["soft_cap_exceeded"] is True
    alerts = api.get("/alerts").json()["alerts"]
    assert [a["kind"] for a in alerts] == ["soft_cap_exceeded"]
    reconciled = api.post("/budgets/spring/reconcile", None).json()
    assert reconciled["clean"] is True
    assert reconciled["totals"]["charge"] == "550.00"
    assert api.post("/reconcile", None).json()["budgets_clean"] == 1


def test_a_release_takes_no_body_as_a_void_does(api: Api) -> None:
    _create(api)
    reserve = {"reference": "iss-1", "amount": "10.00", "currency": "USD"}
    assert api.post("/budgets/spring/reservations", reserve).status_code == 201
    released = api.client.post(
        api.url("/budgets/spring/reservations/iss-1/release"), headers=api.auth("writer")
    )
    assert released.status_code == 201, released.text
    assert released.json()["state"] == "released"


def test_a_reserve_above_the_hard_cap_is_a_422_problem(api: Api) -> None:
    _create(api)
    body = {"reference": "big", "amount": "1000.01", "currency": "USD"}
    problem = assert_problem(
        api.post("/budgets/spring/reservations", body), 422, "hard_cap_exceeded"
    )
    assert problem["hard_cap"] == "1000.00"
    assert api.get("/budgets/spring/utilization").json()["used"] == "0.00"


def test_a_float_amount_is_a_validation_error(api: Api) -> None:
    _create(api)
    body = {"reference": "f", "amount": 12.5, "currency": "USD"}
    assert_problem(api.post("/budgets/spring/reservations", body), 422, "validation_error")


def test_corrections_are_admin_only_and_need_a_note(api: Api) -> None:
    _create(api)
    body = {"reverses": "budget:spring:fund:t1", "note": "typo", "idempotency_key": "c"}
    assert_problem(api.post("/budgets/spring/corrections", body), 403, "forbidden")
    no_note = {"reverses": "budget:spring:fund:t1", "note": "", "idempotency_key": "c"}
    assert_problem(
        api.post("/budgets/spring/corrections", no_note, role="admin"), 422, "validation_error"
    )
    done = api.post("/budgets/spring/corrections", body, role="admin")
    assert done.status_code == 201, done.text
    assert done.json()["actor"].startswith("key:")
    assert api.get("/budgets/spring/utilization").json()["available"] == "0.00"


def test_reports_come_as_json_or_csv(api: Api) -> None:
    _create(api)
    api.post(
        "/budgets/spring/reservations", {"reference": "a", "amount": "1.00", "currency": "USD"}
    )
    report = api.get("/budgets/spring/report?range=month").json()
    assert (report["totals"]["fund"], report["issuance_count"]) == ("2000.00", 1)
    response = api.get("/reports/budgets?range=year&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["budget_id"], r["total_reserve"]) for r in rows] == [("spring", "1.00")]
    assert_problem(api.get("/budgets/spring/report?range=decade"), 422, "validation_error")


def test_entries_are_paged_with_a_cursor(api: Api) -> None:
    _create(api)
    for ref in "abc":
        api.post(
            "/budgets/spring/reservations", {"reference": ref, "amount": "1.00", "currency": "USD"}
        )
    first = api.get("/budgets/spring/entries?limit=2").json()
    assert len(first["entries"]) == 2
    second = api.get(f"/budgets/spring/entries?limit=2&cursor={first['next_cursor']}").json()
    ids = [e["transfer_id"] for e in first["entries"] + second["entries"]]
    assert len(set(ids)) == 4


def test_an_unknown_budget_is_not_found(api: Api) -> None:
    assert_problem(api.get("/budgets/ghost"), 404, "not_found")


def test_the_seeds_budget_meanings_over_http(api: Api) -> None:
    # Seed 003: "balance is reserved/charged amounts", caps without any top-up.
    body = {"id": "seedb", "currency": "USD", "hard_cap": "1000.00", "funding": "on_demand"}
    created = api.post("/budgets", body, role="admin")
    assert created.status_code == 201, created.text
    assert (created.json()["funding"], created.json()["soft_cap"]) == ("on_demand", "800.00")
    reserve = {"reference": "iss-1", "amount": "900.00", "currency": "USD"}
    assert api.post("/budgets/seedb/reservations", reserve).status_code == 201
    u = api.get("/budgets/seedb/utilization").json()
    assert (u["seed_balance"], u["seed_available"], u["total_funded"]) == (
        "900.00",
        "100.00",
        "900.00",
    )
    kinds = sorted(a["kind"] for a in api.get("/alerts?budget_id=seedb").json()["alerts"])
    assert kinds == ["hard_cap_approaching", "soft_cap_exceeded"]
    newest = api.get("/budgets/seedb/entries?from=2000-01-01").json()["entries"]
    assert [e["transfer_id"] for e in newest] == [
        "budget:seedb:res:iss-1",
        "budget:seedb:draw:iss-1",
    ]
    assert_problem(api.get("/budgets/seedb/entries?from=2026-13-01"), 422, "validation_error")

    schedule = api.get("/budgets/seedb/reset-schedule").json()
    assert (schedule["period_type"], schedule["should_reset"]) == ("monthly", False)
    reset = api.post("/budgets/seedb/reset", {}, headers={"Idempotency-Key": "rs-1"})
    assert reset.status_code == 201, reset.text
    again = api.post("/budgets/seedb/reset", {}, headers={"Idempotency-Key": "rs-1"})
    assert (again.status_code, again.json()["period"]) == (200, reset.json()["period"])
    assert api.get("/budgets/seedb/utilization").json()["used"] == "0.00"
    every = api.post("/budgets/reset", {"period_type": "monthly", "idempotency_key": "all-1"})
    assert every.status_code == 201, every.text
    assert every.json()["budgets_reset"] == 1
    assert_problem(api.post("/budgets/seedb/reset", {}), 422, "validation_error")

    fixed = api.post("/budgets/seedb/fix", {"note": "checked"}, headers={"Idempotency-Key": "f"})
    assert_problem(fixed, 403, "forbidden")
    fixed = api.post(
        "/budgets/seedb/fix", {"note": "checked"}, headers={"Idempotency-Key": "f"}, role="admin"
    )
    assert fixed.status_code == 201, fixed.text
    assert (fixed.json()["fixed"], fixed.json()["remaining"]) == ([], [])


def test_the_budget_list_pages_with_an_opaque_cursor_and_still_answers_next_after(
    api: Api,
) -> None:
    for name in ("b1", "b2", "b3"):
        body = {"id": name, "currency": "USD", "hard_cap": "10.00"}
        assert api.post("/budgets", body, role="admin").status_code == 201
    first = api.get("/budgets", params={"limit": 2}).json()
    assert [b["id"] for b in first["budgets"]] == ["b1", "b2"]
    assert first["next_after"] == "b2"
    rest = api.get("/budgets", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert ([b["id"] for b in rest["budgets"]], rest["next_cursor"]) == (["b3"], None)
    assert_problem(
        api.get("/budgets", params={"cursor": "bm90LWEtY3Vyc29y"}), 422, "validation_error"
    )
