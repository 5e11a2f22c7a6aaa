"""The event feed: a tenant's outbox events read in order from a cursor, and relayed to a sink
one batch at a time, at least once, never skipping one. Both engines; the ordering under
concurrent transactions on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import text

from rewardledger.domain.errors import ValidationError
from rewardledger.events import STORE, StoredEvent, read_events, relay_batch
from rewardledger.ledger.engine import Ledger
from tests.builders import fund, programme
from tests.conftest import owner_engine, wait_for_feed


def test_the_feed_pages_through_every_event_in_the_order_they_were_written(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    for _ in range(5):
        fund(ledger, p, p.wallets[0], "1.00")
    wait_for_feed(ledger, tenant_id)
    seen: list[StoredEvent] = []
    cursor = None
    while True:
        page = read_events(ledger, tenant_id, after=cursor, limit=3)
        if not page.events:
            break
        seen.extend(page.events)
        cursor = page.next_cursor
    types = [event.event_type for event in seen]
    assert types[0] == "tenant.created"
    assert types.count("transfer.posted") == 5
    places = [event.at for event in seen]
    assert places == sorted(places)
    assert len({event.event_id for event in seen}) == len(seen)
    again = read_events(ledger, tenant_id, after=cursor)
    assert again.events == []
    assert again.next_cursor == cursor


def test_the_feed_filters_by_event_type_and_refuses_a_cursor_it_did_not_give(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    fund(ledger, p, p.wallets[0], "1.00")
    wait_for_feed(ledger, tenant_id)
    page = read_events(ledger, tenant_id, event_types=["transfer.posted"])
    assert [event.event_type for event in page.events] == ["transfer.posted"]
    with pytest.raises(ValidationError):
        read_events(ledger, tenant_id, after="not-a-cursor")


def test_another_tenants_events_are_not_in_the_feed(ledger: Ledger, tenant_id: str) -> None:
    ledger.create_tenant(f"{tenant_id}x", timezone="UTC")
    wait_for_feed(ledger, tenant_id)
    page = read_events(ledger, tenant_id)
    assert [event.subject_id for event in page.events] == [tenant_id]


def test_a_relay_delivers_each_batch_once_and_keeps_its_place_when_delivery_fails(
    ledger: Ledger, tenant_id: str
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    for _ in range(3):
        fund(ledger, p, p.wallets[0], "1.00")
    wait_for_feed(ledger, tenant_id)
    delivered: list[str] = []

    def deliver(events: Sequence[StoredEvent]) -> None:
        delivered.extend(event.event_id for event in events)

    def broken(events: Sequence[StoredEvent]) -> None:
        raise ConnectionError("the sink is down")

    with pytest.raises(ConnectionError):
        relay_batch(ledger, tenant_id, "test-sink", broken, batch_size=2)
    first = relay_batch(ledger, tenant_id, "test-sink", deliver, batch_size=2)
    assert first.delivered == 2
    while relay_batch(ledger, tenant_id, "test-sink", deliver, batch_size=2).delivered:
        pass
    every = [event.event_id for event in read_events(ledger, tenant_id, limit=500).events]
    assert delivered == every
    assert relay_batch(ledger, tenant_id, "test-sink", deliver).delivered == 0
    positions = ledger.extension(STORE).sink_positions(tenant_id)
    assert positions["test-sink"] == read_events(ledger, tenant_id, limit=500).events[-1].at


def test_a_sink_held_by_one_relay_is_busy_for_another(ledger: Ledger, tenant_id: str) -> None:
    programme(ledger, tenant_id, wallets=1)
    wait_for_feed(ledger, tenant_id)
    entered, release = threading.Event(), threading.Event()
    reports = []

    def slow(events: Sequence[StoredEvent]) -> None:
        entered.set()
        release.wait(10)

    holder = threading.Thread(
        target=lambda: reports.append(relay_batch(ledger, tenant_id, "one-at-a-time", slow))
    )
    holder.start()
    assert entered.wait(10)
    try:
        busy = relay_batch(ledger, tenant_id, "one-at-a-time", lambda events: None)
    finally:
        release.set()
        holder.join(10)
    assert busy.busy
    assert busy.delivered == 0
    assert reports[0].delivered > 0


def test_an_event_of_a_transaction_that_commits_late_is_not_skipped(
    ledger: Ledger, tenant_id: str, engine_name: str
) -> None:
    """On PostgreSQL a transaction numbers its rows when it writes them and may commit after
    a later one: the feed holds the later one back until the earlier one is over."""
    if engine_name != "postgresql":
        pytest.skip("SQLite's writers take turns: rows are numbered in commit order")
    engine = owner_engine(ledger)
    insert = text(
        "INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, created_at) "
        "VALUES (:tenant, :event_id, 'test.event', :event_id, now())"
    )
    wait_for_feed(ledger, tenant_id)
    seen = {e.event_id for e in read_events(ledger, tenant_id, limit=500).events}
    cursor = read_events(ledger, tenant_id, limit=500).next_cursor
    with engine.connect() as early, engine.connect() as late:
        early.execute(insert, {"tenant": tenant_id, "event_id": "early"})
        late.execute(insert, {"tenant": tenant_id, "event_id": "late"})
        late.commit()
        held_back = read_events(ledger, tenant_id, after=cursor, limit=500)
        assert [e.event_id for e in held_back.events if e.event_id not in seen] == []
        early.commit()
    wait_for_feed(ledger, tenant_id)
    after = read_events(ledger, tenant_id, after=cursor, limit=500).events
    assert [e.event_id for e in after] == ["early", "late"]
