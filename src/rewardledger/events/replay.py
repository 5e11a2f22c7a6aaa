"""Replay from a cursor: the feed as envelopes, for ``GET /v1/tenants/{tid}/events`` and
``rewardledger events tail`` alike, so both show a consumer the same events in the same shape
NATS and webhooks carry.

Owns: the check of the ``type`` filter against the catalogue (a type the code never writes
would match nothing, silently, so it is refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.events.catalogue import CATALOGUE
from rewardledger.events.envelope import envelope
from rewardledger.events.feed import read_events
from rewardledger.ledger.engine import Ledger

EVENT_TYPE_FILTER_MAX = len(CATALOGUE)


@dataclass(frozen=True, slots=True)
class EnvelopePage:
    """A page of envelopes; ``next_cursor`` continues after the last (the given cursor when
    the page is empty: poll again with it)."""

    events: list[dict[str, Any]]
    next_cursor: str | None


def replay(
    ledger: Ledger,
    tenant_id: str,
    *,
    after: str | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
    event_types: Sequence[str] | None = None,
) -> EnvelopePage:
    """The tenant's events after ``after`` as envelopes, optionally only of ``event_types``."""
    chosen = list(dict.fromkeys(event_types or []))
    unknown = [t for t in chosen if t not in CATALOGUE]
    if unknown:
        raise ValidationError(
            f"No event type {unknown[0]!r} exists; docs/events.md lists the event types.",
            field="type",
        )
    if len(chosen) > EVENT_TYPE_FILTER_MAX:
        raise ValidationError(
            f"At most {EVENT_TYPE_FILTER_MAX} event types can be asked for at once.", field="type"
        )
    page = read_events(ledger, tenant_id, after=after, limit=limit, event_types=chosen or None)
    return EnvelopePage([envelope(tenant_id, e) for e in page.events], page.next_cursor)
