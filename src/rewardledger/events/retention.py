"""Retention of the outbox: old events that every sink has passed are deleted in batches.

Owns: which events may go. Protects: no sink ever misses an event: only events at or before
the place of the tenant's least advanced sink are deleted, and only those written before
``older_than`` (now minus the configured retention, ``REWARDLEDGER_EVENT_RETENTION_DAYS``).
A tenant none of whose sinks has delivered anything keeps every event: there is no place that
every sink has passed. A replay from a cursor older than what was pruned resumes at the oldest
event kept.
"""

from __future__ import annotations

from datetime import datetime

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import EVENT_PRUNE_BATCH_SIZE_DEFAULT, EVENT_PRUNE_BATCH_SIZE_MAX
from rewardledger.events.port import STORE
from rewardledger.ledger.engine import Ledger


def prune_events(
    ledger: Ledger,
    tenant_id: str,
    *,
    older_than: datetime,
    batch_size: int = EVENT_PRUNE_BATCH_SIZE_DEFAULT,
) -> int:
    """Delete ``tenant_id``'s events written before ``older_than`` that every sink has passed,
    ``batch_size`` per transaction; return how many were deleted."""
    if not 1 <= batch_size <= EVENT_PRUNE_BATCH_SIZE_MAX:
        raise ValidationError(
            f"The prune batch size must be from 1 to {EVENT_PRUNE_BATCH_SIZE_MAX}.",
            field="batch_size",
        )
    ledger.get_tenant(tenant_id)
    store = ledger.extension(STORE)
    places = store.sink_positions(tenant_id)
    if not places:
        return 0
    passed = min(places.values())
    deleted = 0
    while True:
        count = store.prune(tenant_id, passed, older_than, batch_size)
        deleted += count
        if count < batch_size:
            return deleted
