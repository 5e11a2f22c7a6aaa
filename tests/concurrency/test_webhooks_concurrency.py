"""Two delivery passes on PostgreSQL, in two processes at once, never send one attempt twice:
the claim marks deliveries in flight under a lease (FOR UPDATE SKIP LOCKED), counted at a
real receiver."""

from __future__ import annotations

import multiprocessing
import secrets
import time
from collections import Counter
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import text

from rewardledger.bootstrap import Ledger
from rewardledger.events.webhooks import add_endpoint, deliver_due
from tests.conftest import owner_engine
from tests.webhook_receiver import fan_out_everything, receiving

EVENTS_WRITTEN = 60
PASS_LIMIT = 4
WORKERS = 2
IDLE_PASSES_TO_STOP = 3


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[Ledger, str, str]]:
    with Ledger.open(postgres_url) as ledger:
        tenant = f"wh{secrets.token_hex(6)}"
        ledger.create_tenant(tenant)
        yield ledger, tenant, postgres_url


def _deliver(url: str, tenant: str, start: object) -> int:
    """Run passes until a few in a row find nothing; return how many this process sent."""
    sent = idle = 0
    with Ledger.open(url, migrate=False) as ledger, httpx2.Client() as client:
        start.wait()  # type: ignore[attr-defined]
        while idle < IDLE_PASSES_TO_STOP:
            counts = deliver_due(ledger, tenant, http_client=client, limit=PASS_LIMIT)
            sent += counts.delivered + counts.retrying + counts.failed
            idle = 0 if counts.claimed else idle + 1
            if not counts.claimed:
                time.sleep(0.1)
    return sent


@pytest.mark.postgres_only
def test_two_delivery_passes_in_two_processes_never_send_one_attempt_twice(
    pg: tuple[Ledger, str, str],
) -> None:
    ledger, tenant, url = pg
    with owner_engine(ledger).begin() as connection:
        for n in range(EVENTS_WRITTEN):
            connection.execute(
                text(
                    "INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, "
                    "created_at) VALUES (:t, :e, 'test.event', :s, now())"
                ),
                {"t": tenant, "e": f"e{n}", "s": f"s{n % 7}"},
            )
    with receiving(delay_seconds=0.02) as receiver:
        add_endpoint(ledger, tenant, url=receiver.url, event_types=["test.event"])
        add_endpoint(
            ledger, tenant, url=receiver.url.replace("/hooks", "/other"), event_types=["*"]
        )
        fan_out_everything(ledger, tenant)
        context = multiprocessing.get_context("spawn")
        start = context.Manager().Event()
        with context.Pool(WORKERS) as pool:
            pending = [pool.apply_async(_deliver, (url, tenant, start)) for _ in range(WORKERS)]
            start.set()
            sent = [p.get(timeout=300) for p in pending]
    per_event = Counter(receiver.event_ids())
    expected = (
        EVENTS_WRITTEN * 2 + 1
    )  # both endpoints take the test events; "*" also tenant.created
    assert len(receiver.requests) == expected
    assert sum(sent) == expected
    assert all(sent), "both processes should have sent some (the test proves nothing otherwise)"
    assert {per_event[f"e{n}"] for n in range(EVENTS_WRITTEN)} == {2}  # once per endpoint
