"""How far behind each sink of a tenant's event feed is: the outbox lag, what failed, and the
last success.

Owns: ``outbox_lag_seconds`` (the age of the oldest event a sink has not been handed, the one
query ``/metrics`` and the console's delivery health both read) and ``delivery_health``, per
sink of one tenant: each webhook endpoint, and every relay sink (such as ``nats``) that has a
place in the feed. A webhook endpoint's lag is the older of two waits: an event not yet fanned
out to the endpoints (the ``webhooks`` sink's lag; enabled endpoints only, as the fan-out
skips the others) and its oldest delivery not yet delivered (pending or in flight).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rewardledger.events.port import STORE as EVENTS
from rewardledger.events.views import START, FeedPosition
from rewardledger.events.webhooks.fanout import SINK as WEBHOOKS_SINK
from rewardledger.events.webhooks.port import STORE as WEBHOOKS
from rewardledger.events.webhooks.views import Endpoint
from rewardledger.ledger.engine import Ledger


@dataclass(frozen=True, slots=True)
class SinkHealth:
    """One sink of one tenant: a webhook endpoint (``endpoint`` set) or a relay sink."""

    sink: str
    lag_seconds: float
    failed: int
    last_success_at: datetime | None
    endpoint: Endpoint | None = None


def outbox_lag_seconds(
    ledger: Ledger,
    tenant_id: str,
    sinks: Sequence[str],
    places: Mapping[str, FeedPosition] | None = None,
) -> dict[str, float]:
    """sink -> age in seconds of the tenant's oldest event not yet handed to it (0: up to
    date); a sink without a place in ``places`` (read when not given) counts from the start
    of the feed."""
    store = ledger.extension(EVENTS)
    known = store.sink_positions(tenant_id) if places is None else places
    now = ledger.clock()
    lag = dict.fromkeys(sinks, 0.0)
    for sink in sinks:
        oldest = store.read_after(tenant_id, known.get(sink, START), 1)
        if oldest:
            lag[sink] = max(0.0, (now - oldest[0].created_at).total_seconds())
    return lag


def delivery_health(
    ledger: Ledger,
    tenant_id: str,
    endpoints: Sequence[Endpoint],
    relay_failures: Mapping[str, int],
) -> list[SinkHealth]:
    """The health of ``endpoints`` (a page of the tenant's), then of each relay sink with a
    place in the feed; ``relay_failures``: sink -> failed runs of its worker step."""
    events = ledger.extension(EVENTS)
    places = events.sink_positions(tenant_id)
    moved = events.sink_moved_at(tenant_id)
    relays = sorted(sink for sink in places if sink != WEBHOOKS_SINK)
    sinks = [WEBHOOKS_SINK, *relays] if endpoints else relays
    lag = outbox_lag_seconds(ledger, tenant_id, sinks, places)
    now = ledger.clock()
    found = ledger.extension(WEBHOOKS).health(
        tenant_id, [endpoint.endpoint_id for endpoint in endpoints]
    )
    shown: list[SinkHealth] = []
    for endpoint in endpoints:
        oldest, failed, last = found.get(endpoint.endpoint_id, (None, 0, None))
        waited = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        fanned = lag[WEBHOOKS_SINK] if endpoint.enabled else 0.0
        shown.append(SinkHealth("webhook", max(waited, fanned), failed, last, endpoint))
    for sink in relays:
        shown.append(SinkHealth(sink, lag[sink], relay_failures.get(sink, 0), moved.get(sink)))
    return shown
