"""A tenant's webhook endpoints: add, list, show, update, remove, rotate the secret, and list
an endpoint's deliveries with their attempts.

Owns: the checks at the edge (url, event types, description, overlap) and the secret's life:
made here, shown once when the endpoint is added and once when it is rotated. A rotation
keeps the previous secret for the stated overlap, so receivers that still verify with it
keep working while they switch (the Standard Webhooks header carries both signatures).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from rewardledger.domain.errors import NotFound
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.domain.paging import page_limit, page_of, text_after
from rewardledger.domain.webhooks import (
    WEBHOOK_ATTEMPTS_LISTED_MAX,
    WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT,
    checked_description,
    checked_event_types,
    checked_overlap_seconds,
    checked_url,
    new_endpoint_id,
    new_secret,
)
from rewardledger.events.views import FeedPosition
from rewardledger.events.webhooks.port import STORE
from rewardledger.events.webhooks.views import (
    DeliveryPage,
    DeliveryQuery,
    Endpoint,
    EndpointPage,
    EndpointWithSecret,
)
from rewardledger.ledger.engine import Ledger

HINT = "List the tenant's endpoints with GET /v1/tenants/{tid}/webhooks or `webhooks list`."


def add_endpoint(
    ledger: Ledger,
    tenant_id: str,
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    enabled: bool = True,
    endpoint_id: str | None = None,
) -> EndpointWithSecret:
    """Add an endpoint subscribed to ``event_types`` (``["*"]``: every type); the answer
    carries its signing secret, which is not shown again.

    ``endpoint_id`` (one derived from an idempotency key) names it: when an endpoint of that
    id exists already, it is answered as it is, and no second one is added."""
    ledger.get_tenant(tenant_id)
    if endpoint_id is not None:
        existing = ledger.extension(STORE).endpoint(tenant_id, endpoint_id)
        if existing is not None:
            return EndpointWithSecret(existing, existing.secret)
    now = ledger.clock()
    secret = new_secret()
    endpoint = Endpoint(
        endpoint_id=endpoint_id or new_endpoint_id(),
        url=checked_url(url),
        event_types=tuple(checked_event_types(event_types)),
        description=checked_description(description),
        enabled=enabled,
        created_at=now,
        updated_at=now,
        secret=secret,
    )
    ledger.extension(STORE).add_endpoint(tenant_id, endpoint)
    return EndpointWithSecret(endpoint, secret)


def get_endpoint(ledger: Ledger, tenant_id: str, endpoint_id: str) -> Endpoint:
    ledger.get_tenant(tenant_id)
    found = ledger.extension(STORE).endpoint(tenant_id, endpoint_id)
    if found is None:
        raise NotFound("webhook endpoint", endpoint_id, HINT)
    return found


def list_endpoints(
    ledger: Ledger, tenant_id: str, *, cursor: str | None = None, limit: int = PAGE_SIZE_DEFAULT
) -> EndpointPage:
    """The tenant's endpoints in id order; pass ``next_cursor`` back for the next page."""
    ledger.get_tenant(tenant_id)
    chosen = page_limit(limit)
    found = ledger.extension(STORE).endpoints(tenant_id, after=text_after(cursor), limit=chosen + 1)
    return EndpointPage(*page_of(found, chosen, lambda endpoint: (endpoint.endpoint_id,)))


def update_endpoint(
    ledger: Ledger,
    tenant_id: str,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Endpoint:
    """Change what is given and keep the rest. A disabled endpoint is sent nothing; its
    deliveries wait and go out, in order, once it is enabled again."""
    ledger.get_tenant(tenant_id)
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = checked_url(url)
    if event_types is not None:
        changes["event_types"] = checked_event_types(event_types)
    if description is not None:
        changes["description"] = checked_description(description)
    if enabled is not None:
        changes["enabled"] = enabled
    if not changes:
        return get_endpoint(ledger, tenant_id, endpoint_id)
    updated = ledger.extension(STORE).update_endpoint(
        tenant_id, endpoint_id, changes, ledger.clock()
    )
    if updated is None:
        raise NotFound("webhook endpoint", endpoint_id, HINT)
    return updated


def remove_endpoint(ledger: Ledger, tenant_id: str, endpoint_id: str) -> None:
    """Delete the endpoint, its deliveries and their attempts (to pause it, disable it)."""
    ledger.get_tenant(tenant_id)
    if not ledger.extension(STORE).remove_endpoint(tenant_id, endpoint_id):
        raise NotFound("webhook endpoint", endpoint_id, HINT)


def rotate_secret(
    ledger: Ledger,
    tenant_id: str,
    endpoint_id: str,
    *,
    overlap_seconds: int = WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT,
) -> EndpointWithSecret:
    """Give the endpoint a new secret; requests are signed with the old one as well for
    ``overlap_seconds`` (0: the old one stops at once). The new secret is shown this once."""
    overlap = checked_overlap_seconds(overlap_seconds)
    current = get_endpoint(ledger, tenant_id, endpoint_id)
    now = ledger.clock()
    secret = new_secret()
    changes = {
        "secret": secret,
        "previous_secret": current.secret if overlap else None,
        "previous_secret_expires_at": now + timedelta(seconds=overlap) if overlap else None,
        "secret_rotated_at": now,
    }
    updated = ledger.extension(STORE).update_endpoint(tenant_id, endpoint_id, changes, now)
    if updated is None:
        raise NotFound("webhook endpoint", endpoint_id, HINT)
    return EndpointWithSecret(updated, secret)


def list_deliveries(
    ledger: Ledger,
    tenant_id: str,
    endpoint_id: str,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
) -> DeliveryPage:
    """The endpoint's deliveries, latest event first, each with its attempts (the latest
    ``WEBHOOK_ATTEMPTS_LISTED_MAX``, oldest of those first)."""
    get_endpoint(ledger, tenant_id, endpoint_id)
    chosen = page_limit(limit)
    before = None if cursor is None else FeedPosition.from_cursor(cursor)
    found = ledger.extension(STORE).deliveries(
        tenant_id, DeliveryQuery(endpoint_id, before, chosen + 1, WEBHOOK_ATTEMPTS_LISTED_MAX)
    )
    page, next_cursor = page_of(found, chosen, lambda row: (row[0].txid, row[0].position))
    return DeliveryPage([delivery for _, delivery in page], next_cursor)
