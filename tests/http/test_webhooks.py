"""Webhook routes: an admin adds, updates, rotates and removes endpoints (the secret shown
only on create and rotate), a reader lists them and an endpoint's deliveries with every
attempt, and an admin redelivers one event or a range. A real receiver takes the requests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from standardwebhooks import Webhook

from rewardledger.events.webhooks import deliver_due
from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock
from tests.http.support import Api, assert_problem
from tests.webhook_receiver import fan_out_everything, last_place, receiving


@pytest.fixture
def http_client() -> Iterator[httpx2.Client]:
    with httpx2.Client() as client:
        yield client


def _patch(api: Api, path: str, body: object, role: str = "admin") -> httpx2.Response:
    return api.client.patch(api.url(path), json=body, headers=api.auth(role))


def _delete(api: Api, path: str, role: str = "admin") -> httpx2.Response:
    return api.client.delete(api.url(path), headers=api.auth(role))


def _fund(api: Api, ref: str) -> None:
    """Post 1.00 from the shop's funding account to its first wallet (a transfer.posted)."""
    funded = api.post(
        "/transfers",
        {
            "debit_account_id": "funding:USD",
            "credit_account_id": "wallet:0:USD",
            "asset": "USD",
            "amount": "1.00",
            "ref": ref,
        },
    )
    assert funded.status_code in (200, 201), funded.text


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(api: Api) -> None:
    created = api.post(
        "/webhooks",
        {"url": "https://example.com/hooks", "event_types": ["transfer.posted"]},
        role="admin",
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    eid = body["endpoint_id"]
    shown = api.get(f"/webhooks/{eid}")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = api.get("/webhooks").json()
    assert [e["endpoint_id"] for e in listed["endpoints"]] == [eid]
    assert "secret" not in listed["endpoints"][0]


def test_a_writer_or_reader_cannot_add_an_endpoint_and_a_bad_url_is_refused(api: Api) -> None:
    body = {"url": "https://example.com/hooks"}
    for role in ("reader", "writer"):
        assert_problem(api.post("/webhooks", body, role=role), 403, "forbidden")
    bad = api.post("/webhooks", {"url": "ftp://example.com/x"}, role="admin")
    assert_problem(bad, 422, "validation_error")
    unknown = api.get("/webhooks/ep_00000000000000000000000000000000")
    assert_problem(unknown, 404, "not_found")


def test_update_rotate_and_remove_an_endpoint(api: Api) -> None:
    created = api.post("/webhooks", {"url": "https://example.com/a"}, role="admin").json()
    eid = created["endpoint_id"]
    updated = _patch(api, f"/webhooks/{eid}", {"enabled": False, "description": "paused"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["enabled"], updated.json()["url"]) == (False, "https://example.com/a")
    rotated = api.post(f"/webhooks/{eid}/rotate-secret", {"overlap_seconds": 60}, role="admin")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    assert _delete(api, f"/webhooks/{eid}").status_code == 204
    assert_problem(api.get(f"/webhooks/{eid}"), 404, "not_found")


def test_deliveries_list_every_attempt_and_redelivery_sends_again(
    api: Api, ledger: Ledger, clock: FakeClock, http_client: httpx2.Client
) -> None:
    tenant = api.tenant_id
    fan_out_everything(ledger, tenant)  # the shop's events went out before the endpoint came
    start = last_place(ledger, tenant).cursor()
    with receiving([500, 500, 500], then=200) as receiver:
        created = api.post(
            "/webhooks", {"url": receiver.url, "event_types": ["transfer.posted"]}, role="admin"
        ).json()
        eid = created["endpoint_id"]
        _fund(api, "hook-1")
        fan_out_everything(ledger, tenant)
        for _ in range(5):
            deliver_due(ledger, tenant, http_client=http_client)
            clock.advance(hours=2)
        page = api.get(f"/webhooks/{eid}/deliveries").json()
        (delivery,) = page["deliveries"]
        assert delivery["status"] == "delivered"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 200]
        event_id = delivery["event_id"]
        again = api.post(f"/webhooks/{eid}/events/{event_id}/redeliver", role="admin")
        assert again.json() == {"scheduled": 1, "next_cursor": None}
        ranged = api.post(f"/webhooks/{eid}/redeliver", {"after": start}, role="admin")
        assert ranged.json()["scheduled"] == 1
        deliver_due(ledger, tenant, http_client=http_client)
    assert receiver.event_ids() == [event_id] * 5
    for request in receiver.requests:
        Webhook(created["secret"]).verify(request.body, request.headers)
    assert_problem(
        api.post(f"/webhooks/{eid}/redeliver", {}, role="admin"), 422, "validation_error"
    )
    assert_problem(
        api.post(f"/webhooks/{eid}/redeliver", {"after": start}, role="reader"), 403, "forbidden"
    )


def _pages(api: Api, path: str, rows: str, limit: int) -> list[list[str]]:
    """The ids on each page of the list at ``path``, ``limit`` a page, following the cursor."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([row.get("endpoint_id") or row["event_id"] for row in body[rows]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_a_list_of_exactly_one_page_has_no_next_cursor(api: Api, ledger: Ledger) -> None:
    tenant = api.tenant_id
    fan_out_everything(ledger, tenant)  # the shop's events went out before the endpoints came
    eids = sorted(
        api.post("/webhooks", {"url": f"https://example.com/{n}"}, role="admin").json()[
            "endpoint_id"
        ]
        for n in range(2)
    )
    assert _pages(api, "/webhooks", "endpoints", 2) == [eids]
    assert _pages(api, "/webhooks", "endpoints", 1) == [[eids[0]], [eids[1]]]
    for n in range(2):
        _fund(api, f"page-{n}")
    fan_out_everything(ledger, tenant)
    path = f"/webhooks/{eids[0]}/deliveries"
    (whole,) = _pages(api, path, "deliveries", 2)
    assert len(whole) == 2
    assert _pages(api, path, "deliveries", 1) == [[whole[0]], [whole[1]]]
