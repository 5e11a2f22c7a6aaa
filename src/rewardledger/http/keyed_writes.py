"""Set-up writes under an idempotency key: creating an asset, an account, a budget or a
webhook endpoint, and the points programme's settings.

Owns: answering such a write once per key. These writes are keyed by what they create (the
same values again answer the same thing), so a key adds what the id alone cannot: a retry of
a write whose values changed meanwhile is 409 ``idempotency_conflict`` instead of a second
change, and a retry of ``POST /webhooks`` (whose id is generated) answers the endpoint first
made instead of adding another. The first answer is kept (``keyed_writes``) with the digest of
the request (its route, path values and body without the key); the same key again answers it
200 with ``Idempotent-Replayed: true``. Without a key a write behaves as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from rewardledger.domain.errors import IdempotencyConflict
from rewardledger.domain.keyed_writes import KeptWrite
from rewardledger.http.idempotency import BODY_FIELD, key_of, mark_replay
from rewardledger.ledger.engine import Ledger

Public = TypeVar("Public", bound=BaseModel)


def keyed_endpoint_id(tenant_id: str, key: str) -> str:
    """The id of the webhook endpoint added under ``key`` (``ep_`` and 32 hex digits)."""
    return "ep_" + hashlib.sha256(f"{tenant_id}\x00{key}".encode()).hexdigest()[:32]


def _digest(operation: str, path: Mapping[str, str], body: BaseModel | None) -> str:
    sent = (
        {} if body is None else body.model_dump(mode="json", exclude={BODY_FIELD}, warnings=False)
    )
    canonical = json.dumps(
        {"operation": operation, "path": dict(path), "body": sent},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(
    kept: tuple[str, dict[str, Any]], digest: str, key: str, public: type[Public]
) -> Public:
    kept_digest, answer = kept
    if kept_digest != digest:
        raise IdempotencyConflict(key, ["request"])
    return public.model_validate(answer)


def keyed(
    ledger: Ledger,
    tenant_id: str,
    response: Response,
    *,
    operation: str,
    header: str | None,
    body: BaseModel | None,
    public: type[Public],
    write: Callable[[], Public],
    path: Mapping[str, str] | None = None,
) -> Public:
    """``write()``'s answer, or, under a key used before, the answer kept for it."""
    sent = None if body is None else getattr(body, BODY_FIELD, None)
    key = key_of(header, {BODY_FIELD: sent}, required=False)
    if not key:
        return write()
    digest = _digest(operation, path or {}, body)
    store = ledger.store
    kept = store.keyed_write(tenant_id, operation, key)
    if kept is not None:
        mark_replay(response, True)
        return _replay(kept, digest, key, public)
    answer = write()
    stored = answer.model_dump(mode="json")
    if store.keep_keyed_write(KeptWrite(tenant_id, operation, key, digest, stored, ledger.clock())):
        return answer
    # A concurrent request under the same key kept its answer first: answer that one.
    kept = store.keyed_write(tenant_id, operation, key)
    assert kept is not None
    mark_replay(response, True)
    return _replay(kept, digest, key, public)
