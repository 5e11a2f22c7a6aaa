"""API keys over HTTP: list, revoke, rotate with an overlap, last-used time, issuing once under
an Idempotency-Key, and a merchant reading the redemptions it confirms. Both engines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rewardledger.domain.limits import ROTATION_OVERLAP_DEFAULT_SECONDS
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points, redemptions
from rewardledger.services.access import LAST_USED_RESOLUTION
from tests.builders import FakeClock, Programme
from tests.http.support import Api, assert_problem

ACCOUNT = "/accounts/wallet:0:USD"


def _issue(api: Api, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.post("/api-keys", body, role="admin", headers=headers)


def _listed(api: Api) -> dict[str, dict[str, Any]]:
    response = api.get("/api-keys", role="admin")
    assert response.status_code == 200, response.text
    return {key["key_id"]: key for key in response.json()["keys"]}


def _with_key(api: Api, key: str, path: str = ACCOUNT) -> int:
    return api.client.get(api.url(path), headers={"Authorization": f"Bearer {key}"}).status_code


def test_the_list_shows_every_key_without_its_secret(api: Api) -> None:
    made = _issue(api, {"role": "reader", "label": "dashboard"})
    assert made.status_code == 201
    issued = made.json()
    assert issued["key"].startswith(f"rlk_{issued['key_id']}_")
    listed = _listed(api)
    assert issued["key_id"] in listed
    assert len(listed) == 5  # one per role (the fixture) and this one
    shown = listed[issued["key_id"]]
    assert (shown["role"], shown["label"], shown["revoked_at"]) == ("reader", "dashboard", None)
    assert "key" not in shown
    assert "secret_hash" not in shown
    assert not any(secret in str(listed) for secret in [*api.keys.values(), issued["key"]])


def test_the_list_pages_with_a_cursor(api: Api) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2} | ({} if cursor is None else {"cursor": cursor})
        page = api.client.get(api.url("/api-keys"), params=params, headers=api.auth("admin"))
        assert page.status_code == 200, page.text
        seen += [key["key_id"] for key in page.json()["keys"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(_listed(api))
    assert len(seen) == 4


def test_a_revoked_key_is_refused_from_its_next_request(api: Api) -> None:
    issued = _issue(api, {"role": "reader"}).json()
    assert _with_key(api, issued["key"]) == 200
    revoked = api.post(f"/api-keys/{issued['key_id']}/revoke", role="admin")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    response = api.client.get(
        api.url(ACCOUNT), headers={"Authorization": f"Bearer {issued['key']}"}
    )
    assert "revoked" in assert_problem(response, 401, "unauthorized")["detail"]
    again = api.post(f"/api-keys/{issued['key_id']}/revoke", role="admin")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert_problem(api.post("/api-keys/0123456789abcdef/revoke", role="admin"), 404, "not_found")


def test_a_rotated_key_works_through_its_overlap_and_not_after(api: Api, clock: FakeClock) -> None:
    old = _issue(api, {"role": "writer", "label": "checkout"}).json()
    rotated = api.post(f"/api-keys/{old['key_id']}/rotate", {"overlap_seconds": 600}, role="admin")
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["new"]
    assert (new["role"], new["label"]) == ("writer", "checkout")
    assert new["key"]
    assert datetime.fromisoformat(rotated.json()["old"]["expires_at"]) == clock.advance(seconds=600)
    clock.advance(seconds=-1)
    assert (_with_key(api, old["key"]), _with_key(api, new["key"])) == (200, 200)
    clock.advance(seconds=1)
    response = api.client.get(api.url(ACCOUNT), headers={"Authorization": f"Bearer {old['key']}"})
    assert "rotated" in assert_problem(response, 401, "unauthorized")["detail"]
    assert _with_key(api, new["key"]) == 200


def test_rotation_defaults_to_a_day_and_refuses_a_revoked_key(api: Api, clock: FakeClock) -> None:
    old = _issue(api, {"role": "reader"}).json()
    rotated = api.post(f"/api-keys/{old['key_id']}/rotate", role="admin").json()
    ends = datetime.fromisoformat(rotated["old"]["expires_at"])
    assert (ends - clock()).total_seconds() == ROTATION_OVERLAP_DEFAULT_SECONDS
    api.post(f"/api-keys/{old['key_id']}/revoke", role="admin")
    refused = api.post(f"/api-keys/{old['key_id']}/rotate", role="admin")
    assert_problem(refused, 422, "validation_error")
    too_long = api.post(
        f"/api-keys/{rotated['new']['key_id']}/rotate", {"overlap_seconds": 10**9}, role="admin"
    )
    assert_problem(too_long, 422, "validation_error")


def test_last_used_is_written_at_most_once_a_minute(api: Api, clock: FakeClock) -> None:
    issued = _issue(api, {"role": "reader"}).json()
    assert _listed(api)[issued["key_id"]]["last_used_at"] is None
    first = clock()
    assert _with_key(api, issued["key"]) == 200
    clock.advance(seconds=30)
    assert _with_key(api, issued["key"]) == 200
    assert datetime.fromisoformat(_listed(api)[issued["key_id"]]["last_used_at"]) == first
    later = clock.advance(seconds=LAST_USED_RESOLUTION.total_seconds())
    assert _with_key(api, issued["key"]) == 200
    assert datetime.fromisoformat(_listed(api)[issued["key_id"]]["last_used_at"]) == later


def test_a_retried_issue_under_one_idempotency_key_mints_one_key(api: Api) -> None:
    first = _issue(api, {"role": "merchant", "label": "till 4"}, key="till-4-key")
    assert first.status_code == 201, first.text
    retry = _issue(api, {"role": "merchant", "label": "till 4"}, key="till-4-key")
    assert retry.status_code == 200, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["key_id"] == first.json()["key_id"]
    assert retry.json()["key"] is None
    assert "not stored" in retry.json()["note"]
    assert len(_listed(api)) == 5
    conflict = _issue(api, {"role": "admin", "label": "till 4"}, key="till-4-key")
    assert assert_problem(conflict, 409, "idempotency_conflict")["fields"] == ["role"]
    assert _with_key(api, first.json()["key"]) == 403  # a merchant key, and it works


def test_the_body_field_idempotency_key_is_the_header_s_equivalent(api: Api) -> None:
    body = {"role": "reader", "label": "bi", "idempotency_key": "bi-key"}
    first = _issue(api, body)
    assert first.status_code == 201, first.text
    retry = _issue(api, {"role": "reader", "label": "bi"}, key="bi-key")
    assert retry.status_code == 200, retry.text
    assert retry.json()["key_id"] == first.json()["key_id"]
    disagreeing = _issue(api, body, key="another-key")
    assert_problem(disagreeing, 422, "validation_error")


def test_a_merchant_reads_the_redemption_it_confirms(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    points.configure(ledger, shop.tenant_id)
    points.earn(ledger, shop.tenant_id, "u1", "50", dtype="invoice", reference="e1")
    made = redemptions.create(
        ledger, shop.tenant_id, "u1", offer_id="coffee", cost="10", reference="r1"
    )
    read = api.get("/redemptions/r1", role="merchant")
    assert read.status_code == 200, read.text
    assert (read.json()["code"], read.json()["state"]) == (made.code, "pending")
    redemptions.create(ledger, shop.tenant_id, "u1", offer_id="tea", cost="5", reference="r2")
    pending = api.get("/redemptions", role="merchant", params={"state": "pending", "limit": 1})
    assert pending.status_code == 200, pending.text
    assert [r["redemption_id"] for r in pending.json()["redemptions"]] == ["r1"]
    cursor = pending.json()["next_cursor"]
    rest = api.get("/redemptions", role="merchant", params={"state": "pending", "cursor": cursor})
    assert [r["redemption_id"] for r in rest.json()["redemptions"]] == ["r2"]
    assert rest.json()["next_cursor"] is None
    typed = f"{made.code[:5].lower()}-{made.code[5:]}"  # as a cashier might type it
    by_code = api.get(f"/redemptions/by-code/{typed}", role="merchant")
    assert by_code.status_code == 200, by_code.text
    assert by_code.json()["redemption_id"] == "r1"
    assert_problem(api.get("/redemptions/by-code/0000000000", role="merchant"), 404, "not_found")
    confirmed = api.post("/redemptions/confirm", {"code": made.code}, role="merchant")
    assert confirmed.status_code == 200, confirmed.text
    assert api.get("/redemptions/r1", role="merchant").json()["state"] == "confirmed"
    still = api.get("/redemptions", role="merchant", params={"state": "pending"}).json()
    assert [r["redemption_id"] for r in still["redemptions"]] == ["r2"]
    assert_problem(api.get("/redemptions/r1/qr.png", role="merchant"), 403, "forbidden")
    assert_problem(api.get(ACCOUNT, role="merchant"), 403, "forbidden")
