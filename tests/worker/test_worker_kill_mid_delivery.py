"""A ``rewardledger worker`` process killed with SIGKILL while a webhook receiver holds one of
its requests open loses no event, on SQLite and on PostgreSQL: once the delivery's lease has
run out a new worker sends that event again (same ``webhook-id``), then everything after it,
in order per subject; and the deliveries listing shows the retry, made after the lease ended.

The leases are short through the settings (``REWARDLEDGER_WORKER_LEASE_SECONDS`` for the
worker's claim on the step, ``REWARDLEDGER_WEBHOOK_LEASE_SECONDS`` for a delivery's)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from rewardledger.bootstrap import Ledger
from rewardledger.domain.webhooks import DeliveryStatus
from rewardledger.events import STORE as EVENTS
from rewardledger.events.views import START, StoredEvent
from rewardledger.events.webhooks import add_endpoint, list_deliveries
from rewardledger.storage.schema_webhooks import webhook_deliveries
from tests.builders import fund, programme
from tests.cli.helpers import fresh_postgres_schema
from tests.conftest import ENGINES, owner_engine, wait_for_feed
from tests.webhook_receiver import Receiver, receiving
from tests.worker.test_worker_processes import start_worker, stop, wait_for

TENANT = "hooked"
SUBJECTS = ("order-a", "order-b")
EVENTS_PER_SUBJECT = 3
HELD = "order-a-2"  # the event whose first request the receiver holds open
FAST = {
    "REWARDLEDGER_WORKER_SCHEDULE": json.dumps({"webhooks": 1}),
    "REWARDLEDGER_WORKER_LEASE_SECONDS": "2",
    "REWARDLEDGER_WEBHOOK_TIMEOUT_SECONDS": "5",
    "REWARDLEDGER_WEBHOOK_LEASE_SECONDS": "6",
}


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        with fresh_postgres_schema(str(request.getfixturevalue("postgres_url"))) as found:
            Ledger.open(found).close()
            yield found
    else:
        found = f"sqlite:///{tmp_path / 'ledger.db'}"
        Ledger.open(found).close()
        yield found


def add_subject_events(ledger: Ledger, numbers: range) -> None:
    """Events of two subjects, interleaved: ``order-a-1``, ``order-b-1``, ``order-a-2``..."""
    with owner_engine(ledger).begin() as connection:
        for n in numbers:
            for subject in SUBJECTS:
                connection.execute(
                    text(
                        "INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, "
                        "payload, created_at) VALUES (:tenant, :event_id, 'test.event', "
                        ":subject, '{}', :at)"
                    ),
                    {
                        "tenant": TENANT,
                        "event_id": f"{subject}-{n}",
                        "subject": subject,
                        "at": ledger.clock(),
                    },
                )


def feed(ledger: Ledger) -> list[StoredEvent]:
    return ledger.extension(EVENTS).read_after(TENANT, START, 1_000)


def held_lease(ledger: Ledger) -> tuple[str, datetime]:
    """The held delivery's status and lease, as the killed worker left them."""
    d = webhook_deliveries
    query = select(d.c.status, d.c.lease_expires_at).where(
        d.c.tenant_id == TENANT, d.c.event_id == HELD
    )
    with owner_engine(ledger).connect() as connection:
        status, until = connection.execute(query).one()
    return status, until


def received_everything(receiver: Receiver, ledger: Ledger) -> bool:
    return {e.event_id for e in feed(ledger)} <= set(receiver.event_ids())


def test_a_worker_killed_mid_delivery_loses_no_event(url: str, tmp_path: Path) -> None:
    out = tmp_path / "steps.txt"
    with Ledger.open(url) as ledger, receiving(hold_event_id=HELD) as receiver:
        ledger.create_tenant(TENANT, timezone="UTC")
        endpoint = add_endpoint(ledger, TENANT, url=receiver.url, event_types=["*"]).endpoint
        p = programme(ledger, TENANT, wallets=1)
        fund(ledger, p, p.wallets[0], "1.00")
        add_subject_events(ledger, range(1, EVENTS_PER_SUBJECT + 1))
        first = start_worker(url, out, "", "--step", "webhooks", **FAST)
        try:
            wait_for("the receiver holding a request", receiver.holding.is_set, first)
            status, lease_until = held_lease(ledger)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
            first.communicate()
        assert first.returncode == -signal.SIGKILL
        assert status == DeliveryStatus.IN_FLIGHT.value  # the worker was mid-delivery
        seen_before_kill = len(receiver.requests)
        receiver.let_go.set()
        # written while no worker runs: delivered after the recovery too
        fund(ledger, p, p.wallets[0], "2.00")
        add_subject_events(ledger, range(EVENTS_PER_SUBJECT + 1, EVENTS_PER_SUBJECT + 2))
        wait_for_feed(ledger, TENANT)  # so that "every event" below is every one written
        second = start_worker(url, out, "", "--step", "webhooks", **FAST)
        try:
            wait_for("every event received", lambda: received_everything(receiver, ledger), second)
        finally:
            code, stderr = stop(second)
        assert code == 0, stderr
        events = feed(ledger)
        deliveries = list_deliveries(ledger, TENANT, endpoint.endpoint_id).deliveries
    order = {event.event_id: index for index, event in enumerate(events)}
    assert {e.event_id for e in events} <= set(receiver.event_ids())
    before, after = receiver.requests[:seen_before_kill], receiver.requests[seen_before_kill:]
    assert before[-1].event_id == HELD
    assert receiver.event_ids().count(HELD) == 2  # sent again, with the same webhook-id
    for subject in SUBJECTS:
        sent = [r.event_id for r in after if r.document()["subject_id"] == subject]
        assert [order[e] for e in sent] == sorted({order[e] for e in sent}), sent
    assert next(r.event_id for r in after if r.document()["subject_id"] == "order-a") == HELD
    assert all(r.document()["id"] == r.event_id for r in receiver.requests)
    by_event = {d.event_id: d for d in deliveries}
    assert set(by_event) == set(order)
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    retried = by_event[HELD].attempts
    assert [a.status_code for a in retried] == [200]
    assert retried[0].attempted_at >= lease_until  # not before the lost attempt's lease ended
