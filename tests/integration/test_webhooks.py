"""Webhooks against a real HTTP receiver, on both engines: signed the Standard Webhooks way
(checked with the library's own verifier, rotation overlap included), retried with backoff
and each attempt recorded, in order per subject, never held up by a slow receiver, fanned out
once however often the fan-out runs, and redelivered on demand."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import text
from standardwebhooks import Webhook, WebhookVerificationError

from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.webhooks import WEBHOOK_ATTEMPTS_MAX, DeliveryStatus
from rewardledger.events.webhooks import (
    add_endpoint,
    deliver_due,
    fan_out,
    list_deliveries,
    redeliver_event,
    redeliver_range,
    rotate_secret,
    update_endpoint,
)
from rewardledger.ledger.engine import Ledger
from tests.builders import FakeClock, fund, programme
from tests.conftest import owner_engine
from tests.webhook_receiver import fan_out_everything, last_place, receiving

LATER = {"hours": 2}  # past any retry wait but the last (the backoff caps at one hour)


@pytest.fixture
def http_client() -> Iterator[httpx2.Client]:
    with httpx2.Client() as client:
        yield client


def _add_event(ledger: Ledger, tenant_id: str, event_id: str, subject_id: str) -> None:
    with owner_engine(ledger).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, "
                "created_at) VALUES (:tenant, :event_id, 'test.event', :subject, "
                "'{\"n\": 1}', :at)"
            ),
            {
                "tenant": tenant_id,
                "event_id": event_id,
                "subject": subject_id,
                "at": ledger.clock(),
            },
        )


def test_every_request_verifies_with_the_librarys_verifier_and_carries_the_event(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    fund(ledger, p, p.wallets[0], "2.50")
    with receiving() as receiver:
        added = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["transfer.posted"])
        assert added.secret.startswith("whsec_")
        fan_out_everything(ledger, tenant_id)
        counts = deliver_due(ledger, tenant_id, http_client=http_client)
    assert counts.delivered == 1
    (request,) = receiver.requests
    document = Webhook(added.secret).verify(request.body, request.headers)
    assert document["type"] == "transfer.posted"
    assert document["id"] == request.event_id
    assert document["tenant_id"] == tenant_id
    assert document["version"] == 1
    assert set(document) == {
        "id",
        "type",
        "version",
        "tenant_id",
        "subject_id",
        "occurred_at",
        "data",
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["*"]).secret).verify(
            request.body, request.headers
        )


def test_during_a_rotation_both_secrets_verify_and_after_the_overlap_only_the_new_one(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with receiving() as receiver:
        old = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["test.event"])
        new = rotate_secret(ledger, tenant_id, old.endpoint.endpoint_id, overlap_seconds=3600)
        assert new.secret != old.secret
        _add_event(ledger, tenant_id, "during-overlap", "s1")
        fan_out_everything(ledger, tenant_id)
        deliver_due(ledger, tenant_id, http_client=http_client)
        clock.advance(hours=1, seconds=1)
        _add_event(ledger, tenant_id, "after-overlap", "s2")
        fan_out_everything(ledger, tenant_id)
        deliver_due(ledger, tenant_id, http_client=http_client)
    during, after = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old.secret, new.secret):
        Webhook(secret).verify(during.body, during.headers)
    Webhook(new.secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old.secret).verify(after.body, after.headers)


def test_a_receiver_failing_three_times_gets_the_event_once_after_it_recovers(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with receiving([500, 500, 500], then=200) as receiver:
        endpoint = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["test.event"])
        eid = endpoint.endpoint.endpoint_id
        _add_event(ledger, tenant_id, "e1", "s1")
        fan_out_everything(ledger, tenant_id)
        results = []
        for _ in range(6):
            results.append(deliver_due(ledger, tenant_id, http_client=http_client))
            clock.advance(**LATER)
    assert receiver.event_ids() == ["e1"] * 4
    assert [r.retrying for r in results[:3]] == [1, 1, 1]
    assert results[3].delivered == 1
    assert sum(r.claimed for r in results[4:]) == 0
    (delivery,) = list_deliveries(ledger, tenant_id, eid).deliveries
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempts] == [500, 500, 500, 200]
    assert [a.attempt for a in delivery.attempts] == [1, 2, 3, 4]
    assert delivery.attempts[0].response_excerpt == "answered 500"
    assert all(a.latency_ms >= 0 and a.error is None for a in delivery.attempts)


def test_a_receiver_that_never_succeeds_is_marked_failed_after_the_attempts_limit(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with receiving(then=503) as receiver:
        endpoint = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["test.event"])
        _add_event(ledger, tenant_id, "e1", "s1")
        fan_out_everything(ledger, tenant_id)
        for _ in range(WEBHOOK_ATTEMPTS_MAX + 2):
            deliver_due(ledger, tenant_id, http_client=http_client)
            clock.advance(days=1)
    assert len(receiver.requests) == WEBHOOK_ATTEMPTS_MAX
    (delivery,) = list_deliveries(ledger, tenant_id, endpoint.endpoint.endpoint_id).deliveries
    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == WEBHOOK_ATTEMPTS_MAX


def test_a_receiver_that_never_answers_delays_neither_other_endpoints_nor_writes(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    timeout = 1.5
    with receiving(delay_seconds=3 * timeout) as slow, receiving() as fast:
        down = add_endpoint(ledger, tenant_id, url=slow.url, event_types=["test.event"])
        add_endpoint(ledger, tenant_id, url=fast.url, event_types=["test.event"])
        for n in range(3):
            _add_event(ledger, tenant_id, f"e{n}", f"s{n}")
        fan_out_everything(ledger, tenant_id)
        started = time.monotonic()
        results = []
        worker = threading.Thread(
            target=lambda: results.append(
                deliver_due(ledger, tenant_id, http_client=http_client, timeout_seconds=timeout)
            )
        )
        worker.start()
        while not slow.requests and time.monotonic() - started < 10:
            time.sleep(0.01)
        write_started = time.monotonic()
        fund(ledger, p, p.wallets[0], "1.00")
        write_seconds = time.monotonic() - write_started
        worker.join(30)
    assert write_seconds < timeout / 2
    assert sorted(fast.event_ids()) == ["e0", "e1", "e2"]
    assert all(r.at_monotonic - started < timeout for r in fast.requests)
    assert len(slow.requests) == 1  # the first timed out; the rest wait for the next pass
    (counts,) = results
    assert (counts.delivered, counts.retrying, counts.released) == (3, 1, 2)
    (timed_out,) = [
        a
        for d in list_deliveries(ledger, tenant_id, down.endpoint.endpoint_id).deliveries
        for a in d.attempts
    ]
    assert timed_out.status_code is None
    assert timed_out.error is not None
    assert "Timeout" in timed_out.error
    assert timed_out.latency_ms >= timeout * 1000 * 0.9


def test_a_receiver_that_is_down_is_called_once_a_pass_and_the_rest_wait_for_the_retry(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"
    endpoint = add_endpoint(ledger, tenant_id, url=url, event_types=["test.event"])
    for n in range(3):
        _add_event(ledger, tenant_id, f"e{n}", f"s{n}")
    fan_out_everything(ledger, tenant_id)
    first = deliver_due(ledger, tenant_id, http_client=http_client)
    assert (first.claimed, first.retrying, first.released) == (3, 1, 2)
    # the two put back untried are due with the retry, not claimed again by every pass
    assert deliver_due(ledger, tenant_id, http_client=http_client).claimed == 0
    deliveries = list_deliveries(ledger, tenant_id, endpoint.endpoint.endpoint_id).deliveries
    assert len({d.next_attempt_at for d in deliveries}) == 1
    assert sorted(d.tries for d in deliveries) == [0, 0, 1]
    clock.advance(**LATER)
    again = deliver_due(ledger, tenant_id, http_client=http_client)
    assert (again.claimed, again.retrying, again.released) == (3, 1, 2)


def test_a_later_event_of_a_subject_waits_while_an_earlier_one_is_retried(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with receiving([500], then=200) as receiver:
        add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["test.event"])
        _add_event(ledger, tenant_id, "first", "member-1")
        _add_event(ledger, tenant_id, "second", "member-1")
        _add_event(ledger, tenant_id, "other", "member-2")
        fan_out_everything(ledger, tenant_id)
        deliver_due(ledger, tenant_id, http_client=http_client)
        assert sorted(receiver.event_ids()) == ["first", "other"]
        deliver_due(ledger, tenant_id, http_client=http_client)  # "first" is not due yet
        assert len(receiver.requests) == 2
        for _ in range(3):
            clock.advance(**LATER)
            deliver_due(ledger, tenant_id, http_client=http_client)
    ids = receiver.event_ids()
    member_1 = [i for i in ids if i != "other"]
    assert member_1 == ["first", "first", "second"]


def test_a_fan_out_run_twice_creates_no_second_delivery(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client
) -> None:
    endpoint = add_endpoint(ledger, tenant_id, url="http://127.0.0.1:9/x", event_types=["*"])
    _add_event(ledger, tenant_id, "e1", "s1")
    fan_out_everything(ledger, tenant_id)
    first = list_deliveries(ledger, tenant_id, endpoint.endpoint.endpoint_id).deliveries
    with owner_engine(ledger).begin() as connection:  # as if the fan-out died before its place
        connection.execute(
            text("DELETE FROM event_sink_cursors WHERE tenant_id = :t"), {"t": tenant_id}
        )
    again = fan_out(ledger, tenant_id)
    assert again.delivered > 0
    second = list_deliveries(ledger, tenant_id, endpoint.endpoint.endpoint_id).deliveries
    assert [d.event_id for d in second] == [d.event_id for d in first]
    assert "e1" in [d.event_id for d in second]


def test_one_event_and_a_range_are_redelivered_on_demand(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client, clock: FakeClock
) -> None:
    with receiving() as receiver:
        endpoint = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["test.event"])
        eid = endpoint.endpoint.endpoint_id
        start = last_place(ledger, tenant_id).cursor()
        for n in range(3):
            _add_event(ledger, tenant_id, f"e{n}", f"s{n}")
        fan_out_everything(ledger, tenant_id)
        deliver_due(ledger, tenant_id, http_client=http_client)
        assert sorted(receiver.event_ids()) == ["e0", "e1", "e2"]
        assert redeliver_event(ledger, tenant_id, eid, "e1") == 1
        deliver_due(ledger, tenant_id, http_client=http_client)
        assert receiver.event_ids()[3:] == ["e1"]
        report = redeliver_range(ledger, tenant_id, eid, after=start)
        assert (report.scheduled, report.next_cursor) == (3, None)
        deliver_due(ledger, tenant_id, http_client=http_client)
        assert sorted(receiver.event_ids()[4:]) == ["e0", "e1", "e2"]
        by_time = redeliver_range(ledger, tenant_id, eid, since=clock.now - timedelta(minutes=1))
        assert by_time.scheduled == 3
    with pytest.raises(NotFound):
        redeliver_event(ledger, tenant_id, eid, "no-such-event")
    with pytest.raises(ValidationError):
        redeliver_range(ledger, tenant_id, eid)
    (e1,) = [d for d in list_deliveries(ledger, tenant_id, eid).deliveries if d.event_id == "e1"]
    assert [a.attempt for a in e1.attempts] == [1, 2, 3]


def test_a_disabled_endpoint_is_sent_nothing_until_enabled_again(
    ledger: Ledger, tenant_id: str, http_client: httpx2.Client
) -> None:
    with receiving() as receiver:
        endpoint = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["test.event"])
        eid = endpoint.endpoint.endpoint_id
        _add_event(ledger, tenant_id, "e1", "s1")
        fan_out_everything(ledger, tenant_id)
        update_endpoint(ledger, tenant_id, eid, enabled=False)
        deliver_due(ledger, tenant_id, http_client=http_client)
        assert receiver.requests == []
        update_endpoint(ledger, tenant_id, eid, enabled=True)
        deliver_due(ledger, tenant_id, http_client=http_client)
    assert receiver.event_ids() == ["e1"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "https://", "not a url", "http://exa mple.com", "x" * 3000]
)
def test_an_endpoint_url_must_be_http_or_https_with_a_host(
    ledger: Ledger, tenant_id: str, url: str
) -> None:
    with pytest.raises(ValidationError):
        add_endpoint(ledger, tenant_id, url=url, event_types=["*"])
