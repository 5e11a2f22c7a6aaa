"""API keys of a tenant after their issue: listing, revoking, rotating, and issuing once.

Owns: what each of these does to a key's row. A key's secret exists only in the answer that
issues it (``services.access``); nothing here ever reads or returns it.

Issuing once: a request that carries an idempotency key names the API key it mints, its id
derived from the tenant and that idempotency key. A retry finds the key already there and is
answered with the same ``key_id`` and metadata, without the secret, which is not stored and so
cannot be shown again (``IssuedOnce.key`` is None and the answer says so). The same
idempotency key with another role or label is ``idempotency_conflict``. Creating a tenant
under an idempotency key mints its first admin key once in the same way (``create_tenant``).

Revoking sets ``revoked_at`` (revoking again changes nothing). Rotating mints a new key of the
old one's role and label, and sets the old key's ``expires_at`` to now + the overlap: it works
until then and not after. The first end of a key stands: a later revocation or rotation does
not move it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from rewardledger.domain.access import Role, StoredApiKey
from rewardledger.domain.errors import AlreadyExists, IdempotencyConflict, NotFound, ValidationError
from rewardledger.domain.limits import (
    PAGE_SIZE_MAX,
    ROTATION_OVERLAP_DEFAULT_SECONDS,
    ROTATION_OVERLAP_MAX_SECONDS,
)
from rewardledger.domain.paging import page_of, text_after
from rewardledger.domain.tenants import Tenant
from rewardledger.ledger.engine import Ledger
from rewardledger.services import access
from rewardledger.services.access import FIRST_ADMIN_LABEL, IssuedKey, issue_key

_KIND = "API key"
_NOT_FOUND_HINT = "GET /api-keys (or `rewardledger apikey list`) lists the tenant's keys."
REPLAY_NOTE = (
    "This key was issued by an earlier request with the same Idempotency-Key; its secret was "
    "shown in that answer only and is not stored. If it was lost, revoke this key and issue "
    "another."
)


def tenant_replay_note(tenant_id: str) -> str:
    """What a replayed tenant creation says of its first admin key, whose secret is gone."""
    return (
        "This tenant and its first admin key were created by an earlier request with the same "
        "Idempotency-Key; the key's secret was shown in that answer only and is not stored. If "
        f"it was lost, {access.more_admin_keys(tenant_id)}"
    )


@dataclass(frozen=True, slots=True)
class IssuedOnce:
    """A key issued by a request: ``key`` (the secret) is None on a replay."""

    stored: StoredApiKey
    key: str | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class TenantCreated:
    """A tenant and its first admin key (``key.key`` None on a replay)."""

    tenant: Tenant
    key: IssuedOnce


@dataclass(frozen=True, slots=True)
class KeyPage:
    keys: list[StoredApiKey]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Rotation:
    new: IssuedOnce
    old: StoredApiKey


def key_id_for(tenant_id: str, idempotency_key: str, minted: str = "api key") -> str:
    """The id of the key minted under ``idempotency_key`` (16 hex digits, like a random id).

    ``minted`` names what minted it: the first admin key of a tenant's creation has an id space
    of its own, so a key issued at /api-keys under the same idempotency key is another."""
    seed = f"rewardledger {minted} of {tenant_id} under {idempotency_key}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def issue(
    ledger: Ledger,
    tenant_id: str,
    role: str,
    label: str | None = None,
    *,
    idempotency_key: str | None = None,
) -> IssuedOnce:
    """Issue a key; under an idempotency key, at most one per (tenant, idempotency key)."""
    if idempotency_key is None:
        return _fresh(ledger, issue_key(ledger, tenant_id, role, label))
    key_id = key_id_for(tenant_id, idempotency_key)
    return _issued_once(ledger, tenant_id, role, label, idempotency_key, key_id)


def create_tenant(
    ledger: Ledger,
    tenant_id: str,
    *,
    name: str | None = None,
    timezone: str = "UTC",
    idempotency_key: str | None = None,
) -> TenantCreated:
    """Create a tenant and its first admin key (``access.create_tenant``), at most once per
    idempotency key.

    Under an idempotency key, a retry with the same values answers the tenant and that key's
    metadata, replayed and without the secret; other values are ``idempotency_conflict``. A
    tenant that exists with no key at all (its creation stopped before the key was written)
    gets its first admin key now. Any other existing tenant is ``already_exists``, as without
    an idempotency key.
    """
    if idempotency_key is None:
        tenant, issued = access.create_tenant(ledger, tenant_id, name=name, timezone=timezone)
        return TenantCreated(tenant, _fresh(ledger, issued))
    try:
        tenant = ledger.create_tenant(tenant_id, name=name, timezone=timezone, exist_ok=False)
    except AlreadyExists as exists:
        return _created_before(ledger, tenant_id, idempotency_key, exists)
    return TenantCreated(tenant, _first_admin_key(ledger, tenant.id, idempotency_key))


def list_keys(
    ledger: Ledger, tenant_id: str, *, cursor: str | None = None, limit: int = PAGE_SIZE_MAX
) -> KeyPage:
    """The tenant's keys by key id, ``limit`` at a time; ``next_cursor`` (the opaque cursor of
    every list, ``domain.paging``) while more follow."""
    after = text_after(cursor)
    ledger.get_tenant(tenant_id)
    keys = ledger.store.list_api_keys(tenant_id, after, limit + 1)
    return KeyPage(*page_of(keys, limit, lambda key: (key.key_id,)))


def revoke(ledger: Ledger, tenant_id: str, key_id: str) -> StoredApiKey:
    """Revoke the key now: every request with it is 401 from the next one on."""
    ended = ledger.store.revoke_api_key(tenant_id, key_id, ledger.clock())
    if ended is None:
        raise NotFound(_KIND, key_id, _NOT_FOUND_HINT)
    return ended


def rotate(
    ledger: Ledger,
    tenant_id: str,
    key_id: str,
    *,
    overlap_seconds: int = ROTATION_OVERLAP_DEFAULT_SECONDS,
    idempotency_key: str | None = None,
) -> Rotation:
    """A new key with the old one's role and label; the old one ends after the overlap."""
    if not 0 <= overlap_seconds <= ROTATION_OVERLAP_MAX_SECONDS:
        raise ValidationError(
            f"overlap_seconds must be between 0 and {ROTATION_OVERLAP_MAX_SECONDS}.",
            field="overlap_seconds",
        )
    old = ledger.store.find_api_key(key_id)
    if old is None or old.tenant_id != tenant_id:
        raise NotFound(_KIND, key_id, _NOT_FOUND_HINT)
    if old.revoked_at is not None:
        raise ValidationError(
            f"The API key {key_id!r} was revoked, so it has nothing to hand over; issue a new "
            "key at POST /api-keys instead.",
            field="key_id",
        )
    new = issue(ledger, tenant_id, old.role, old.label, idempotency_key=idempotency_key)
    ends = ledger.clock() + timedelta(seconds=overlap_seconds)
    ended = ledger.store.expire_api_key(tenant_id, key_id, ends)
    assert ended is not None
    return Rotation(new, ended)


def _fresh(ledger: Ledger, issued: IssuedKey) -> IssuedOnce:
    stored = ledger.store.find_api_key(issued.key_id)
    assert stored is not None
    return IssuedOnce(stored, issued.key, replayed=False)


def _earlier(
    ledger: Ledger,
    tenant_id: str,
    key_id: str,
    role: str,
    label: str | None,
    idempotency_key: str,
) -> IssuedOnce | None:
    stored = ledger.store.find_api_key(key_id)
    if stored is None or stored.tenant_id != tenant_id:
        return None
    differing = [
        name
        for name, mine, theirs in (("role", role, stored.role), ("label", label, stored.label))
        if mine != theirs
    ]
    if differing:
        raise IdempotencyConflict(idempotency_key, differing)
    return IssuedOnce(stored, None, replayed=True)


def _issued_once(
    ledger: Ledger,
    tenant_id: str,
    role: str,
    label: str | None,
    idempotency_key: str,
    key_id: str,
) -> IssuedOnce:
    earlier = _earlier(ledger, tenant_id, key_id, role, label, idempotency_key)
    if earlier is not None:
        return earlier
    try:
        return _fresh(ledger, issue_key(ledger, tenant_id, role, label, key_id=key_id))
    except AlreadyExists:
        # A concurrent request under the same idempotency key inserted it first.
        earlier = _earlier(ledger, tenant_id, key_id, role, label, idempotency_key)
        if earlier is None:
            raise
        return earlier


def _first_admin_key_id(tenant_id: str, idempotency_key: str) -> str:
    return key_id_for(tenant_id, idempotency_key, "first admin key")


def _first_admin_key(ledger: Ledger, tenant_id: str, idempotency_key: str) -> IssuedOnce:
    key_id = _first_admin_key_id(tenant_id, idempotency_key)
    return _issued_once(
        ledger, tenant_id, Role.ADMIN.value, FIRST_ADMIN_LABEL, idempotency_key, key_id
    )


def _created_before(
    ledger: Ledger, tenant_id: str, idempotency_key: str, exists: AlreadyExists
) -> TenantCreated:
    """A retried creation of a tenant that exists: the replay of the request that created it
    under ``idempotency_key``, the rest of one that stopped before its key, or a refusal."""
    differing: list[str] = exists.context["fields"]
    # Keys first: a concurrent request may insert the first admin key between the two reads,
    # and then the second one sees it too.
    has_keys = bool(ledger.store.list_api_keys(tenant_id, None, 1))
    mine = ledger.store.find_api_key(_first_admin_key_id(tenant_id, idempotency_key))
    created_here = mine is not None and mine.tenant_id == tenant_id
    if differing:
        if created_here:
            raise IdempotencyConflict(idempotency_key, differing) from exists
        raise exists
    if has_keys and not created_here:
        raise access.refused_again(tenant_id) from exists
    return TenantCreated(
        ledger.get_tenant(tenant_id), _first_admin_key(ledger, tenant_id, idempotency_key)
    )
