"""Delivery health on both engines, against real HTTP receivers: per webhook endpoint its
outbox lag, failed deliveries and last success; per relay sink with a place in the feed (a
"nats" sink moved by ``relay_batch``) the same, its failures being its worker step's. The lag
is the one ``/metrics`` reports (``events.health.outbox_lag_seconds``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest

from rewardledger.domain.webhooks import WEBHOOK_ATTEMPTS_MAX
from rewardledger.events import STORE as EVENTS
from rewardledger.events import relay_batch
from rewardledger.events.health import SinkHealth, delivery_health
from rewardledger.events.webhooks import add_endpoint, deliver_due, get_endpoint, update_endpoint
from rewardledger.http.metrics import outbox_lag_seconds
from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock
from tests.integration.test_webhooks import _add_event
from tests.webhook_receiver import FEED_WAIT_SECONDS, fan_out_everything, last_place, receiving

RELAY = "nats"
WAITED_SECONDS = 90


@pytest.fixture
def http_client() -> Iterator[httpx2.Client]:
    with httpx2.Client() as client:
        yield client


def _relay_everything(ledger: Ledger, tenant_id: str) -> None:
    """Move the relay sink past the tenant's last event (on PostgreSQL the feed may hold
    events back while older transactions of the server run: wait for them, boundedly)."""
    last = last_place(ledger, tenant_id)
    deadline = time.monotonic() + FEED_WAIT_SECONDS
    while time.monotonic() < deadline:
        relay_batch(ledger, tenant_id, RELAY, lambda events: None)
        place = ledger.extension(EVENTS).sink_positions(tenant_id).get(RELAY)
        if place is not None and place >= last:
            return
        time.sleep(0.05)
    raise AssertionError("the feed did not catch up")


def _health(ledger: Ledger, tenant_id: str, endpoint_ids: list[str]) -> list[SinkHealth]:
    endpoints = [get_endpoint(ledger, tenant_id, eid) for eid in endpoint_ids]
    return delivery_health(ledger, tenant_id, endpoints, {RELAY: 2})


def _lagging(ledger: Ledger, tenant_id: str, endpoint_ids: list[str]) -> list[SinkHealth]:
    """The health once the feed shows the newest event (PostgreSQL may hold it back)."""
    deadline = time.monotonic() + FEED_WAIT_SECONDS
    while True:
        found = _health(ledger, tenant_id, endpoint_ids)
        if found[-1].lag_seconds > 0 or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_each_sink_shows_its_outbox_lag_failures_and_last_success(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with receiving() as up, receiving(then=503) as down:
        ok = add_endpoint(ledger, tenant_id, url=up.url, event_types=["test.event"])
        bad = add_endpoint(ledger, tenant_id, url=down.url, event_types=["test.event"])
        ids = [ok.endpoint.endpoint_id, bad.endpoint.endpoint_id]
        _add_event(ledger, tenant_id, "e1", "s1")
        _add_event(ledger, tenant_id, "e2", "s2")
        fan_out_everything(ledger, tenant_id)
        delivered_at = clock()
        for _ in range(WEBHOOK_ATTEMPTS_MAX + 2):
            deliver_due(ledger, tenant_id, http_client=http_client)
            clock.advance(days=1)
    _relay_everything(ledger, tenant_id)
    relayed_at = clock()
    fine, broken, relay = _health(ledger, tenant_id, ids)
    assert (fine.failed, fine.lag_seconds) == (0, 0.0)
    assert fine.last_success_at is not None  # in the first pass (its clock runs on in it)
    assert delivered_at <= fine.last_success_at < delivered_at + timedelta(minutes=1)
    assert (broken.failed, broken.lag_seconds, broken.last_success_at) == (2, 0.0, None)
    assert (relay.sink, relay.failed, relay.lag_seconds) == (RELAY, 2, 0.0)
    assert relay.last_success_at == relayed_at

    _add_event(ledger, tenant_id, "e3", "s3")  # neither fanned out nor relayed yet
    clock.advance(seconds=WAITED_SECONDS)
    fine, broken, relay = _lagging(ledger, tenant_id, ids)
    assert fine.lag_seconds == broken.lag_seconds == relay.lag_seconds == WAITED_SECONDS
    assert outbox_lag_seconds(ledger)[RELAY] >= WAITED_SECONDS  # what /metrics reports

    update_endpoint(ledger, tenant_id, ids[1], enabled=False)  # the fan-out skips it
    assert _lagging(ledger, tenant_id, ids)[1].lag_seconds == 0.0
