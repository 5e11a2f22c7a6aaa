"""What webhooks need of storage (implemented in ``storage.webhooks``). Each method is one
short transaction of its own: no transaction is ever open while a receiver is called."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from rewardledger.events.views import FeedPosition, StoredEvent
from rewardledger.events.webhooks.views import (
    Attempt,
    ClaimedDelivery,
    Delivery,
    DeliveryQuery,
    Endpoint,
    EventRange,
    MadeAttempt,
    NewDelivery,
)
from rewardledger.ledger.extensions import Port


class WebhookStore(Protocol):
    def add_endpoint(self, tenant_id: str, endpoint: Endpoint) -> None: ...

    def endpoint(self, tenant_id: str, endpoint_id: str) -> Endpoint | None: ...

    def endpoints(
        self, tenant_id: str, *, after: str | None, limit: int, enabled_only: bool = False
    ) -> list[Endpoint]:
        """Endpoints in id order after ``after``, at most ``limit``."""
        ...

    def update_endpoint(
        self, tenant_id: str, endpoint_id: str, changes: Mapping[str, Any], now: datetime
    ) -> Endpoint | None:
        """Set the columns ``changes`` names (and ``updated_at``); None when it is missing."""
        ...

    def remove_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        """Delete the endpoint with its deliveries and attempts; False when it is missing."""
        ...

    def add_deliveries(
        self, tenant_id: str, deliveries: Sequence[NewDelivery], now: datetime
    ) -> int:
        """Insert the deliveries that do not exist yet (ON CONFLICT DO NOTHING); how many."""
        ...

    def schedule_again(
        self, tenant_id: str, deliveries: Sequence[NewDelivery], now: datetime
    ) -> int:
        """Insert or reset the deliveries to a new round due at ``now`` (those in flight are
        left to their worker); how many were scheduled."""
        ...

    def claim_due(
        self, tenant_id: str, now: datetime, limit: int, lease_until: datetime, token: str
    ) -> list[ClaimedDelivery]:
        """Mark in flight under ``token`` the due deliveries of enabled endpoints that no
        earlier unfinished delivery of their endpoint and subject comes before (PostgreSQL:
        FOR UPDATE SKIP LOCKED, so two workers never claim one)."""
        ...

    def renew(self, tenant_id: str, claimed: ClaimedDelivery, lease_until: datetime) -> bool:
        """Extend the lease before a send; False when another worker has taken it over."""
        ...

    def release(
        self,
        tenant_id: str,
        claimed: Sequence[ClaimedDelivery],
        not_before: datetime | None = None,
    ) -> None:
        """Put claimed deliveries back, with no attempt counted (one statement): due as they
        were, or not before ``not_before`` when it is given."""
        ...

    def record_attempt(self, tenant_id: str, attempt: MadeAttempt) -> bool:
        """Add the attempt and move the delivery to its ``status`` (one transaction); False
        when the lease was lost (nothing written)."""
        ...

    def deliveries(
        self, tenant_id: str, wanted: DeliveryQuery
    ) -> list[tuple[FeedPosition, Delivery]]:
        """The endpoint's deliveries, latest event first, each with its latest attempts."""
        ...

    def attempts(self, tenant_id: str, endpoint_id: str, event_id: str) -> list[Attempt]: ...

    def health(
        self, tenant_id: str, endpoint_ids: Sequence[str]
    ) -> dict[str, tuple[datetime | None, int, datetime | None]]:
        """Per endpoint: when its oldest delivery not yet delivered was made, how many of its
        deliveries failed, and when the last one was delivered (absent: no delivery)."""
        ...

    def event(self, tenant_id: str, event_id: str) -> StoredEvent | None: ...

    def events_in_range(self, tenant_id: str, wanted: EventRange) -> list[StoredEvent]:
        """The outbox events ``wanted`` names, in feed order."""
        ...


STORE: Port[WebhookStore] = Port("webhooks")
