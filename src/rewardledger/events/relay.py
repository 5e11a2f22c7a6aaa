"""Relaying the feed to one sink, one batch at a time: the loop every sink (a webhook fan-out,
a broker) runs under.

Owns: the order of a relay step: claim the sink, read the batch after its place, hand it to
the sink's ``deliver``, and only when that returned record the new place. Protects:
at-least-once delivery in feed order. A ``deliver`` that raises leaves the place where it was,
so the same batch comes again next time (an outage delays, never loses); a relay that dies
after delivering and before recording delivers that batch again, so a sink must accept an
event twice (each carries its ``event_id``). No transaction is open while ``deliver`` runs, so
a slow sink holds up neither writers nor the other sinks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.events.port import STORE
from rewardledger.events.views import StoredEvent
from rewardledger.ledger.engine import Ledger

RELAY_BATCH_SIZE_DEFAULT = 100
RELAY_BATCH_SIZE_MAX = PAGE_SIZE_MAX

Deliver = Callable[[Sequence[StoredEvent]], None]


@dataclass(frozen=True, slots=True)
class RelayReport:
    """What one relay step did: how many events it delivered, and whether another relay held
    the sink (then it did nothing)."""

    delivered: int
    busy: bool = False


def relay_batch(
    ledger: Ledger,
    tenant_id: str,
    sink: str,
    deliver: Deliver,
    *,
    batch_size: int = RELAY_BATCH_SIZE_DEFAULT,
) -> RelayReport:
    """Deliver the next batch of ``tenant_id``'s events to ``sink`` with ``deliver``."""
    if not 1 <= batch_size <= RELAY_BATCH_SIZE_MAX:
        raise ValueError(f"batch_size must be from 1 to {RELAY_BATCH_SIZE_MAX}")
    store = ledger.extension(STORE)
    with store.claim(tenant_id, sink) as claim:
        if claim is None:
            return RelayReport(0, busy=True)
        events = store.read_after(tenant_id, claim.position, batch_size)
        if not events:
            return RelayReport(0)
        deliver(events)
        claim.advance(events[-1].at, ledger.clock())
        return RelayReport(len(events))
