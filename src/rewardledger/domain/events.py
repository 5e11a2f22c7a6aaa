"""Events: what the ledger tells the outside world, through the outbox.

Owns: the shape of an outbox event. Every change writes its events in the same transaction
as the change itself, so no event is lost or invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event for the outbox. For a transfer, ``subject_id`` names the journal row, which is
    immutable, so the event needs no copy of it."""

    event_type: str
    subject_id: str
    payload: Mapping[str, Any] | None = None
