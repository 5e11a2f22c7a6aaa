"""``GET /metrics``: open (no key), in the Prometheus text format, with the request latency by
route template and status moving, writes and refusals by code, the outbox lag per sink, the
pool's use; and no label that names a tenant. Both engines."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from rewardledger.events import StoredEvent, relay_batch
from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock
from tests.http.support import Api, transfer_body

TRANSFERS_ROUTE = "/v1/tenants/{tid}/transfers"
WAIT_SECONDS_MAX = 60


def until(done: Callable[[], object]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS_MAX
    while not done():
        assert time.monotonic() < deadline, f"not within {WAIT_SECONDS_MAX}s"
        time.sleep(0.1)


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_writes_and_refusals_by_route_template_and_code(
    client: TestClient, api: Api
) -> None:
    before = scrape(client)
    body = transfer_body("wallet:0:USD", "wallet:1:USD", "1.00", ref="metrics-1")
    assert api.post("/transfers", body).status_code == 201
    refused = api.post("/transfers", transfer_body("wallet:0:USD", "wallet:1:USD", "1000.00"))
    assert refused.status_code == 422
    code = refused.json()["code"]
    after = scrape(client)
    count = "rewardledger_http_request_duration_seconds_count"
    labels = {"route": TRANSFERS_ROUTE, "method": "POST"}
    assert (
        value(after, count, **labels, status="201")
        == value(before, count, **labels, status="201") + 1
    )
    assert (
        value(after, count, **labels, status="422")
        == value(before, count, **labels, status="422") + 1
    )
    writes = "rewardledger_writes_total"
    assert (
        value(after, writes, route=TRANSFERS_ROUTE)
        == value(before, writes, route=TRANSFERS_ROUTE) + 1
    )
    refusals = "rewardledger_refusals_total"
    assert value(after, refusals, code=code) == value(before, refusals, code=code) + 1
    assert value(after, "rewardledger_db_pool_size") >= 0


def test_metrics_show_the_outbox_lag_of_a_sink_and_name_no_tenant(
    client: TestClient, ledger: Ledger, api: Api, clock: FakeClock
) -> None:
    sink = f"lag-{api.tenant_id}"
    delivered: list[str] = []

    def deliver(events: Sequence[StoredEvent]) -> None:
        delivered.extend(event.event_id for event in events)

    # On PostgreSQL the feed holds back events while an older transaction runs (anyone's, on
    # this server): relay until the first event went.
    until(lambda: relay_batch(ledger, api.tenant_id, sink, deliver, batch_size=1).delivered)
    clock.advance(seconds=90)
    lagging = value(scrape(client), "rewardledger_outbox_lag_seconds", sink=sink)
    assert lagging >= 90

    def caught_up() -> bool:
        # A sink one tenant's relay moved is owed every tenant's events: catch them all up.
        for tenant in ledger.list_tenants():
            while relay_batch(ledger, tenant.id, sink, deliver).delivered:
                pass
        return value(scrape(client), "rewardledger_outbox_lag_seconds", sink=sink) == 0

    until(caught_up)
    text = client.get("/metrics").text
    assert api.tenant_id not in text.replace(sink, "")


def test_metrics_need_no_key(client: TestClient, api: Api) -> None:
    assert client.get("/metrics").status_code == 200
