"""Setting up points over HTTP: assets, expiry policies, reason codes and their pending
settings; the same again is a no-op, a real difference a 409 that names the fix."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

from tests.http.support import Api, assert_problem

AFTER_30 = {"kind": "after", "days": 30, "rounding": "none", "at": None}


def _put(api: Api, path: str, body: Any, role: str = "admin") -> httpx.Response:
    return api.client.put(api.url(path), json=body, headers=api.auth(role))


def test_configure_creates_then_answers_the_same_settings_as_a_replay(api: Api) -> None:
    made = api.post("/points/configure", {"asset": "STARS", "expiry": AFTER_30}, role="admin")
    assert made.status_code == 201, made.text
    assert made.json() == {"asset": "STARS", "scale": 0, "expiry": AFTER_30}
    again = api.post("/points/configure", {"asset": "STARS", "expiry": AFTER_30}, role="admin")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    kept = api.post("/points/configure", {"asset": "STARS"}, role="admin")
    assert (kept.status_code, kept.json()["expiry"]) == (200, AFTER_30)
    assert api.get("/points/assets").json() == {"assets": [made.json()], "next_cursor": None}
    assert api.get("/points/assets/STARS").json() == made.json()


def test_configure_with_another_expiry_says_what_differs_and_how_to_change_it(api: Api) -> None:
    api.post("/points/configure", {"asset": "STARS", "expiry": AFTER_30}, role="admin")
    other = api.post(
        "/points/configure", {"asset": "STARS", "expiry": {"kind": "none"}}, role="admin"
    )
    problem = assert_problem(other, 409, "already_exists")
    assert "expire 30 days after activation" in problem["detail"]
    assert f"PUT /v1/tenants/{api.tenant_id}/points/assets/STARS" in problem["detail"]
    assert "rewardledger points set-expiry" in problem["detail"]
    assert "role admin" in problem["detail"]
    changed = _put(api, "/points/assets/STARS", {"expiry": {"kind": "none"}})
    assert (changed.status_code, changed.json()["expiry"]["kind"]) == (200, "none"), changed.text


def test_writes_need_an_admin_and_reads_a_reader(api: Api) -> None:
    refused = api.post("/points/configure", {"asset": "STARS"}, role="writer")
    assert_problem(refused, 403, "forbidden")
    assert_problem(
        _put(api, "/points/assets/STARS", {"expiry": AFTER_30}, "writer"), 403, "forbidden"
    )
    assert api.get("/points/reasons", role="reader").status_code == 200


def test_an_unknown_points_asset_is_404_naming_the_route_that_makes_it(api: Api) -> None:
    missing = assert_problem(api.get("/points/assets/STARS"), 404, "not_found")
    assert f"POST /v1/tenants/{api.tenant_id}/points/configure" in missing["detail"]
    refused = _put(api, "/points/assets/STARS", {"expiry": AFTER_30})
    assert_problem(refused, 404, "not_found")


def test_reasons_with_pending_settings_are_created_read_and_changed(api: Api) -> None:
    api.post("/points/configure", {}, role="admin")
    body = {"direction": "earn", "dtype": "birthday", "pending_seconds": 3600}
    made = api.post("/points/reasons", body, role="admin")
    assert made.status_code == 201, made.text
    assert made.json()["pending_seconds"] == 3600
    assert api.post("/points/reasons", body, role="admin").status_code == 200
    other = api.post("/points/reasons", {**body, "pending_seconds": 60}, role="admin")
    detail = assert_problem(other, 409, "already_exists")["detail"]
    assert f"PUT /v1/tenants/{api.tenant_id}/points/reasons/earn/birthday" in detail
    changed = _put(api, "/points/reasons/earn/birthday", {"pending_until_activated": True})
    assert changed.json()["pending_until_activated"] is True, changed.text
    read = api.get("/points/reasons/earn/birthday").json()
    assert (read["pending_seconds"], read["pending_until_activated"]) == (None, True)
    earns = api.get("/points/reasons", params={"direction": "earn"}).json()["reasons"]
    assert "birthday" in [r["dtype"] for r in earns]
    assert {r["direction"] for r in earns} == {"earn"}
    assert_problem(api.get("/points/reasons/spend/birthday"), 404, "not_found")


def test_an_earn_with_an_unknown_reason_names_the_route_and_command(api: Api) -> None:
    api.post("/points/configure", {}, role="admin")
    refused = api.post("/points/u1/earn", {"amount": "1", "dtype": "gift", "reference": "g1"})
    detail = assert_problem(refused, 422, "validation_error")["detail"]
    assert f"POST /v1/tenants/{api.tenant_id}/points/reasons" in detail
    assert "rewardledger points reason earn gift" in detail


def test_post_configure_is_not_a_405_any_more(api: Api) -> None:
    assert api.post("/points/configure", {"asset": "LUMIS"}, role="admin").status_code == 201
