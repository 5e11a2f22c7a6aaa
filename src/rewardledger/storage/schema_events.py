"""Tables of the event feed (migration 0012_event_feed creates the same).

Owns: ``event_sink_cursors``, where each sink of a tenant (a webhook fan-out, a broker) is in
the feed: every event up to (txid, position) has been delivered to it. The feed itself is the
``outbox`` (``schema.outbox``: its ``position`` and ``txid`` columns).
"""

from __future__ import annotations

from rewardledger.domain.limits import SINK_NAME_LENGTH_MAX
from rewardledger.storage.metadata import bigint, instant, key, tenant_table

event_sink_cursors = tenant_table(
    "event_sink_cursors",
    key("sink", SINK_NAME_LENGTH_MAX),
    bigint("txid"),
    bigint("position"),
    instant("updated_at"),
)
