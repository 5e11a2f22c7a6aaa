"""Events out: the feed of a tenant's outbox events, and the relays that carry them away.

Owns: reading the outbox as an ordered feed (``feed``), each sink's place in it and the claim
that lets one relay at a time move a sink forward (``relay``). Protects: every event a change
wrote (in the change's own transaction, rule 9) reaches every sink at least once, in the
feed's order; a sink that fails keeps its place, so an outage delays and never loses.
"""

from rewardledger.events.feed import read_events
from rewardledger.events.port import STORE, EventFeedStore, SinkClaim
from rewardledger.events.relay import RelayReport, relay_batch
from rewardledger.events.views import EventPage, FeedPosition, StoredEvent

__all__ = [
    "STORE",
    "EventFeedStore",
    "EventPage",
    "FeedPosition",
    "RelayReport",
    "SinkClaim",
    "StoredEvent",
    "read_events",
    "relay_batch",
]
