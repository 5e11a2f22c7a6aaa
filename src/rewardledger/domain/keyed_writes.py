"""Keyed set-up writes: the first answer of one, as it is kept under its idempotency key.

Owns: ``KeptWrite``, the value ``Store.keep_keyed_write`` keeps once per (tenant, operation,
key): its fields are the columns of ``keyed_writes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class KeptWrite:
    """The answer a keyed write gave first, with the digest of the request it answered."""

    tenant_id: str
    operation: str
    idempotency_key: str
    request_digest: str
    response: dict[str, Any]
    created_at: datetime
