"""What the event feed hands out: stored events, their place in the feed, and pages of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rewardledger.domain.paging import decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True, order=True)
class FeedPosition:
    """A place in a tenant's feed: the writing transaction's id (0 on SQLite) and the event's
    number. Feed order is this pair's order."""

    txid: int
    position: int

    def cursor(self) -> str:
        """The opaque cursor that continues after this place."""
        return encode_cursor(self.txid, self.position)

    @classmethod
    def from_cursor(cls, cursor: str) -> FeedPosition:
        """The place a cursor from ``cursor()`` names (``validation_error`` for any other)."""
        txid, position = decode_cursor(cursor, int, int)
        assert isinstance(txid, int)
        assert isinstance(position, int)
        return cls(txid, position)


START = FeedPosition(-1, -1)
"""Before the first event of every feed."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of the outbox, as the feed reads it."""

    at: FeedPosition
    event_id: str
    event_type: str
    subject_id: str
    payload: Mapping[str, Any] | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of the feed. ``next_cursor`` continues after its last event; when the page is
    empty it is the cursor that was given (poll again with it later), None at the start."""

    events: Sequence[StoredEvent]
    next_cursor: str | None
