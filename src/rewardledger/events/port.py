"""What the event feed needs of storage (implemented in ``storage.events``)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from rewardledger.events.views import FeedPosition, StoredEvent
from rewardledger.ledger.extensions import Port


class SinkClaim(Protocol):
    """One relay's hold on one sink of one tenant, for one batch: while it is held no other
    relay (thread or process) moves that sink."""

    @property
    def position(self) -> FeedPosition:
        """Where the sink is: every event up to here has been delivered."""
        ...

    def advance(self, to: FeedPosition, now: datetime) -> None:
        """Record that every event up to ``to`` has been delivered (committed at once)."""
        ...


class EventFeedStore(Protocol):
    def read_after(
        self,
        tenant_id: str,
        after: FeedPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
    ) -> list[StoredEvent]:
        """The tenant's events after ``after`` in feed order, at most ``limit``; only events
        no running transaction can come before (on PostgreSQL, older than the oldest running
        transaction), so that a reader never skips one."""
        ...

    def claim(self, tenant_id: str, sink: str) -> AbstractContextManager[SinkClaim | None]:
        """Hold ``sink`` of ``tenant_id`` for one batch; None when another relay holds it."""
        ...

    def sink_positions(self, tenant_id: str) -> dict[str, FeedPosition]:
        """Where each sink of the tenant is (sinks that never delivered are absent)."""
        ...

    def sink_moved_at(self, tenant_id: str) -> dict[str, datetime]:
        """When each sink of the tenant last moved forward (its last delivery)."""
        ...

    def prune(self, tenant_id: str, passed: FeedPosition, older_than: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the tenant's events at or before ``passed`` and written
        before ``older_than``, in one transaction; return how many."""
        ...


STORE: Port[EventFeedStore] = Port("events")
