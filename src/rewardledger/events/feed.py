"""Reading a tenant's events from a cursor: the replay a consumer rebuilds from.

Owns: the page size and the cursor of the feed. A consumer that stores ``next_cursor`` and
comes back with it sees every later event exactly once, in the order the relays deliver them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.domain.paging import page_limit
from rewardledger.events.port import STORE
from rewardledger.events.views import START, EventPage, FeedPosition
from rewardledger.ledger.engine import Ledger


def read_events(
    ledger: Ledger,
    tenant_id: str,
    *,
    after: str | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
    event_types: Sequence[str] | None = None,
) -> EventPage:
    """The tenant's events after the cursor ``after`` (from the first one when None)."""
    ledger.get_tenant(tenant_id)
    chosen = page_limit(limit)
    start = START if after is None else FeedPosition.from_cursor(after)
    events = ledger.extension(STORE).read_after(tenant_id, start, chosen, event_types)
    next_cursor = events[-1].at.cursor() if events else after
    return EventPage(events, next_cursor)
