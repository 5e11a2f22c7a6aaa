"""The NATS JetStream sink, against the real NATS server: what is published is what a replay
from a cursor shows, a republish leaves one message per event, and an outage delays and never
loses. Both engines."""

from __future__ import annotations

import pytest

from rewardledger.events import STORE, read_events
from rewardledger.events.nats import (
    DUPLICATE_WINDOW_SECONDS,
    NATS_SINK,
    NatsUnavailable,
    message_of,
    relay_to_nats,
)
from rewardledger.events.replay import replay
from rewardledger.ledger.engine import Ledger
from tests.builders import fund, programme
from tests.events.conftest import Stream, closed_port_url, settle_feed

BATCH = 3


def _relay_everything(ledger: Ledger, tenant_id: str, stream: Stream) -> int:
    settle_feed(ledger, tenant_id)
    relayed = 0
    with stream.publisher() as publisher:
        while True:
            report = relay_to_nats(ledger, tenant_id, publisher=publisher, batch_size=BATCH)
            if report.delivered == 0:
                return relayed
            relayed += report.delivered


def test_events_replayed_from_a_cursor_equal_the_ones_published_to_nats(
    ledger: Ledger, tenant_id: str, stream: Stream
) -> None:
    p = programme(ledger, tenant_id, wallets=2)
    for _ in range(4):
        fund(ledger, p, p.wallets[0], "1.00")
    relayed = _relay_everything(ledger, tenant_id, stream)
    replayed = replay(ledger, tenant_id, limit=500).events
    received = stream.read(tenant_id)
    assert relayed == len(replayed) > BATCH
    assert [r.envelope for r in received] == replayed
    assert [r.message_id for r in received] == [e["id"] for e in replayed]
    assert [r.subject for r in received] == [
        f"{stream.prefix}.{tenant_id}.{e['type']}" for e in replayed
    ]
    info = stream.info()
    assert info.config.subjects == [f"{stream.prefix}.>"]
    assert info.config.duplicate_window == DUPLICATE_WINDOW_SECONDS
    # from a cursor: the later events only, as NATS got them after the same place
    middle = replay(ledger, tenant_id, limit=2)
    after = replay(ledger, tenant_id, after=middle.next_cursor, limit=500).events
    assert after == [r.envelope for r in received[2:]]


def test_a_republished_batch_leaves_one_message_per_event(
    ledger: Ledger, tenant_id: str, stream: Stream
) -> None:
    """A relay that died after publishing and before recording its place publishes the same
    batch again: the stream drops the copies (same Nats-Msg-Id)."""
    p = programme(ledger, tenant_id, wallets=1)
    fund(ledger, p, p.wallets[0], "1.00")
    settle_feed(ledger, tenant_id)
    events = read_events(ledger, tenant_id, limit=500).events
    messages = [message_of(tenant_id, e, stream.prefix) for e in events]
    with stream.publisher() as publisher:
        publisher.publish(messages)
        publisher.publish(messages)
    assert _relay_everything(ledger, tenant_id, stream) == len(events)
    received = stream.read(tenant_id)
    assert sorted(r.message_id for r in received) == sorted(e.event_id for e in events)
    assert stream.info().state.messages == len(events)


def test_with_nats_unreachable_the_relay_raises_and_keeps_its_place_then_everything_arrives(
    ledger: Ledger, tenant_id: str, stream: Stream
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    fund(ledger, p, p.wallets[0], "1.00")
    settle_feed(ledger, tenant_id)
    with (
        stream.publisher(closed_port_url()) as down,
        pytest.raises(NatsUnavailable, match="not reachable"),
    ):
        relay_to_nats(ledger, tenant_id, publisher=down)
    assert NATS_SINK not in ledger.extension(STORE).sink_positions(tenant_id)
    fund(ledger, p, p.wallets[0], "2.00")
    relayed = _relay_everything(ledger, tenant_id, stream)
    events = read_events(ledger, tenant_id, limit=500).events
    assert relayed == len(events)
    assert [r.message_id for r in stream.read(tenant_id)] == [e.event_id for e in events]
    assert ledger.extension(STORE).sink_positions(tenant_id)[NATS_SINK] == events[-1].at
