"""Set-up writes under an Idempotency-Key (assets, accounts, budgets, webhook endpoints, the
points programme's settings): a retry answers the first result with Idempotent-Replayed, the
same key with another body is 409 idempotency_conflict, and a key is the tenant's own. Runs on
SQLite and PostgreSQL (the ``ledger`` fixture)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest

from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import issue_key
from tests.http.support import Api, assert_problem


@dataclass(frozen=True)
class Keyed:
    method: str
    path: str
    body: dict[str, Any]
    other: dict[str, Any]  # another body: under the same key, a conflict


_EXPIRY = {"kind": "after", "days": 365}
KEYED = [
    Keyed("POST", "/assets", {"code": "PTS", "scale": 0}, {"code": "PTS", "scale": 1}),
    Keyed("POST", "/accounts", {"id": "acc-1", "asset": "USD"}, {"id": "acc-2", "asset": "USD"}),
    Keyed(
        "POST",
        "/budgets",
        {"id": "camp", "currency": "USD", "hard_cap": "100.00"},
        {"id": "camp", "currency": "USD", "hard_cap": "200.00"},
    ),
    Keyed(
        "POST",
        "/webhooks",
        {"url": "https://hooks.example.com/a", "event_types": ["*"]},
        {"url": "https://hooks.example.com/b", "event_types": ["*"]},
    ),
    Keyed(
        "POST",
        "/points/configure",
        {"asset": "LUMIS", "scale": 0, "expiry": _EXPIRY},
        {"asset": "LUMIS", "scale": 0, "expiry": {"kind": "none"}},
    ),
    Keyed(
        "POST",
        "/points/reasons",
        {"direction": "earn", "dtype": "birthday", "pending_seconds": 60},
        {"direction": "earn", "dtype": "birthday", "pending_seconds": 120},
    ),
    Keyed(
        "PUT",
        "/points/reasons/earn/welcome",
        {"pending_seconds": 60},
        {"pending_seconds": 120},
    ),
]


def _send(
    api: Api, route: Keyed, body: dict[str, Any], key: str | None, tenant: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.keys['admin']}"}
    if tenant is not None:
        ledger: Ledger = api.client.app.state.ledger
        headers["Authorization"] = f"Bearer {issue_key(ledger, tenant, 'admin').key}"
    if key is not None:
        headers["Idempotency-Key"] = key
    url = f"/v1/tenants/{tenant or api.tenant_id}{route.path}"
    return api.client.request(route.method, url, json=body, headers=headers)


def _prepare(api: Api, route: Keyed) -> None:
    if route.path.startswith("/points/") and route.path != "/points/configure":
        response = _send(api, KEYED[4], KEYED[4].body, None)
        assert response.is_success, response.text


@pytest.mark.parametrize("route", KEYED, ids=lambda r: f"{r.method} {r.path}")
def test_a_retry_answers_the_first_result_and_another_body_is_a_conflict(
    api: Api, route: Keyed
) -> None:
    _prepare(api, route)
    first = _send(api, route, route.body, "setup-1")
    assert first.status_code in (200, 201), first.text
    again = _send(api, route, route.body, "setup-1")
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    problem = assert_problem(_send(api, route, route.other, "setup-1"), 409, "idempotency_conflict")
    assert "setup-1" in problem["detail"]
    # The body field is the header's equivalent: the same key either way.
    in_body = _send(api, route, {**route.body, "idempotency_key": "setup-1"}, None)
    assert in_body.status_code == 200, in_body.text
    assert in_body.json() == first.json()


def test_a_retried_webhook_add_makes_no_second_endpoint(api: Api) -> None:
    route = KEYED[3]
    first = _send(api, route, route.body, "hook-1")
    assert first.status_code == 201, first.text
    again = _send(api, route, route.body, "hook-1")
    assert again.json()["endpoint_id"] == first.json()["endpoint_id"]
    listed = api.get("/webhooks").json()["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [first.json()["endpoint_id"]]
    unkeyed = _send(api, route, route.body, None)
    assert unkeyed.status_code == 201
    assert len(api.get("/webhooks").json()["endpoints"]) == 2  # without a key, as before


def test_a_key_is_the_tenants_own(api: Api, ledger: Ledger) -> None:
    other = f"k{secrets.token_hex(6)}"
    ledger.create_tenant(other)
    route = KEYED[0]
    mine = _send(api, route, route.body, "shared-key")
    theirs = _send(api, route, route.other, "shared-key", tenant=other)
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert (mine.json()["scale"], theirs.json()["scale"]) == (0, 1)


def test_a_refused_write_keeps_nothing_under_its_key(api: Api) -> None:
    """A write that fails answers its problem; the key stays free for the corrected request."""
    route = KEYED[1]
    missing = {"id": "acc-9", "asset": "NOPE"}
    assert_problem(_send(api, route, missing, "retry-me"), 404, "not_found")
    fixed = _send(api, route, {"id": "acc-9", "asset": "USD"}, "retry-me")
    assert fixed.status_code == 201, fixed.text


def test_the_same_key_on_another_path_of_one_route_is_a_conflict(api: Api) -> None:
    _prepare(api, KEYED[6])
    route = KEYED[6]
    assert _send(api, route, route.body, "put-1").is_success
    elsewhere = Keyed("PUT", "/points/reasons/earn/other", route.body, route.body)
    assert_problem(_send(api, elsewhere, route.body, "put-1"), 409, "idempotency_conflict")


def test_a_racing_webhook_add_under_one_key_makes_one_endpoint(api: Api, ledger: Ledger) -> None:
    """The endpoint is named by its key: when another request under the key has added it but
    not yet kept its answer (a race), this one answers that endpoint instead of a second."""
    from rewardledger.events import webhooks
    from rewardledger.http.keyed_writes import keyed_endpoint_id

    route = KEYED[3]
    racer = webhooks.add_endpoint(
        ledger,
        api.tenant_id,
        url=route.body["url"],
        event_types=route.body["event_types"],
        endpoint_id=keyed_endpoint_id(api.tenant_id, "race-1"),
    )
    answer = _send(api, route, route.body, "race-1")
    assert answer.status_code == 201, answer.text
    assert answer.json()["endpoint_id"] == racer.endpoint.endpoint_id
    assert answer.json()["secret"] == racer.secret
    assert [e["endpoint_id"] for e in api.get("/webhooks").json()["endpoints"]] == [
        racer.endpoint.endpoint_id
    ]
