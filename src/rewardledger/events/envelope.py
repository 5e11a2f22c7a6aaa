"""The one shape every event leaves in: replay (HTTP and ``events tail``), NATS and webhooks.

Owns: the envelope ``{id, type, version, tenant_id, subject_id, occurred_at, data}`` and its
JSON bytes. ``id`` is the event's id, the same in every sink and on every redelivery, so a
consumer de-duplicates on it; ``version`` is the payload's version in the catalogue.
"""

from __future__ import annotations

import json
from typing import Any

from rewardledger.events.catalogue import kind_of
from rewardledger.events.views import StoredEvent


def envelope(tenant_id: str, event: StoredEvent) -> dict[str, Any]:
    """The envelope of one event of ``tenant_id``'s feed."""
    return {
        "id": event.event_id,
        "type": event.event_type,
        "version": kind_of(event.event_type).version,
        "tenant_id": tenant_id,
        "subject_id": event.subject_id,
        "occurred_at": event.created_at.isoformat(),
        "data": dict(event.payload or {}),
    }


def envelope_json(tenant_id: str, event: StoredEvent) -> bytes:
    """The envelope as compact JSON (UTF-8), keys in a fixed order."""
    return json.dumps(envelope(tenant_id, event), separators=(",", ":")).encode()
