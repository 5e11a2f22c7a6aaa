"""Fan-out: each event of the feed becomes one delivery per enabled endpoint subscribed to its
type; and redelivery, on demand, of one event or of a range of events.

Owns: the "webhooks" sink of the event feed. Protects: at-least-once into the deliveries
table. ``relay_batch`` records the sink's new place only after the batch's deliveries are
inserted (one short transaction); a fan-out that dies before that inserts the same rows
again, which the key (tenant, endpoint, event) turns into nothing (ON CONFLICT DO NOTHING).
An endpoint added later receives the events after its creation's place in the feed onward
(and earlier ones only by redelivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.domain.webhooks import WEBHOOK_REDELIVER_RANGE_MAX, subscribed
from rewardledger.events.relay import RELAY_BATCH_SIZE_DEFAULT, RelayReport, relay_batch
from rewardledger.events.views import START, FeedPosition, StoredEvent
from rewardledger.events.webhooks.endpoints import get_endpoint
from rewardledger.events.webhooks.port import STORE
from rewardledger.events.webhooks.views import (
    Endpoint,
    EventRange,
    NewDelivery,
    RedeliverReport,
)
from rewardledger.ledger.engine import Ledger

SINK = "webhooks"


def _enabled_endpoints(ledger: Ledger, tenant_id: str) -> list[Endpoint]:
    store = ledger.extension(STORE)
    found: list[Endpoint] = []
    after = None
    while True:
        page = store.endpoints(tenant_id, after=after, limit=PAGE_SIZE_MAX, enabled_only=True)
        found.extend(page)
        if len(page) < PAGE_SIZE_MAX:
            return found
        after = page[-1].endpoint_id


def _deliveries(endpoints: Sequence[Endpoint], events: Sequence[StoredEvent]) -> list[NewDelivery]:
    return [
        NewDelivery(
            endpoint_id=endpoint.endpoint_id,
            event_id=event.event_id,
            event_type=event.event_type,
            subject_id=event.subject_id,
            txid=event.at.txid,
            position=event.at.position,
        )
        for event in events
        for endpoint in endpoints
        if subscribed(endpoint.event_types, event.event_type)
    ]


def fan_out(
    ledger: Ledger, tenant_id: str, batch_size: int = RELAY_BATCH_SIZE_DEFAULT
) -> RelayReport:
    """Turn the next batch of the tenant's events into deliveries (see the module)."""

    def deliver(events: Sequence[StoredEvent]) -> None:
        rows = _deliveries(_enabled_endpoints(ledger, tenant_id), events)
        ledger.extension(STORE).add_deliveries(tenant_id, rows, ledger.clock())

    return relay_batch(ledger, tenant_id, SINK, deliver, batch_size=batch_size)


def redeliver_event(ledger: Ledger, tenant_id: str, endpoint_id: str, event_id: str) -> int:
    """Send ``event_id`` to the endpoint again, in a new round of attempts, whatever its
    subscription says (1; 0 when that delivery is being sent right now)."""
    endpoint = get_endpoint(ledger, tenant_id, endpoint_id)
    store = ledger.extension(STORE)
    event = store.event(tenant_id, event_id)
    if event is None:
        raise NotFound(
            "event",
            event_id,
            "List the endpoint's deliveries with GET .../webhooks/{eid}/deliveries.",
        )
    rows = _deliveries([_every_type(endpoint)], [event])
    return store.schedule_again(tenant_id, rows, ledger.clock())


def redeliver_range(
    ledger: Ledger,
    tenant_id: str,
    endpoint_id: str,
    *,
    after: str | None = None,
    until: str | None = None,
    since: datetime | None = None,
    until_time: datetime | None = None,
) -> RedeliverReport:
    """Send again the events the endpoint is subscribed to that are after the feed cursor
    ``after`` (up to and including ``until``) and written in [``since``, ``until_time``), at
    most ``WEBHOOK_REDELIVER_RANGE_MAX`` events a call: call again with ``next_cursor``."""
    if after is None and since is None:
        raise ValidationError(
            "Name where the range starts: a feed cursor (after) or a time (since).",
            field="after",
        )
    if since is not None and until_time is not None and until_time <= since:
        raise ValidationError("until_time must be later than since.", field="until_time")
    endpoint = get_endpoint(ledger, tenant_id, endpoint_id)
    store = ledger.extension(STORE)
    start = START if after is None else FeedPosition.from_cursor(after)
    stop = None if until is None else FeedPosition.from_cursor(until)
    events = store.events_in_range(
        tenant_id, EventRange(start, stop, since, until_time, WEBHOOK_REDELIVER_RANGE_MAX)
    )
    scheduled = store.schedule_again(tenant_id, _deliveries([endpoint], events), ledger.clock())
    cut = len(events) == WEBHOOK_REDELIVER_RANGE_MAX
    return RedeliverReport(scheduled, events[-1].at.cursor() if cut else None)


def _every_type(endpoint: Endpoint) -> Endpoint:
    """The endpoint as subscribed to every type: one event redelivered is sent as asked."""
    return replace(endpoint, event_types=("*",))
