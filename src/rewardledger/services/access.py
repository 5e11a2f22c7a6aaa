"""API keys and platform administration: issuing keys, and telling who a caller is.

Owns: the key format and its check. A key reads ``rlk_<key id>_<secret>``; the secret is
32 random bytes, stored only as its SHA-256 (a key is random, so a slow hash adds nothing).
A key stops working when it is revoked, or when the overlap of its rotation ends
(``expires_at``). A server keeps each key it has read for at most a few seconds (``KeyCache``,
``REWARDLEDGER_API_KEY_CACHE_SECONDS``), so a revocation or the end of an overlap takes effect
within that bound in every process, and at once in the process that revoked or rotated it. Its
``last_used_at`` is written at most once per ``LAST_USED_RESOLUTION`` so that requests do not
each pay a write. Listing, revoking and rotating keys are ``services.api_keys``.
Protects invariant 8: a key opens one tenant only, and for any other tenant it is answered
as if that tenant did not exist (``not_found``), so tenants cannot even be enumerated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from time import monotonic

from cachetools import TTLCache

from rewardledger.domain.access import CAPABILITIES, Principal, Role, StoredApiKey
from rewardledger.domain.errors import (
    AlreadyExists,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationError,
    with_article,
)
from rewardledger.domain.tenants import Tenant, display_name
from rewardledger.ledger.engine import Ledger

_PREFIX = "rlk"
FIRST_ADMIN_LABEL = "first admin key"
_KEY_ID_BYTES = 8
_SECRET_BYTES = 32
_KEY_LENGTH_MAX = 200
# A key's last_used_at is at most this old while it is in use (one write per key per minute).
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How many keys one server process keeps (the least recently read go first when it is full).
KEY_CACHE_SIZE = 10_000


@dataclass(slots=True)
class _Kept:
    """A key as read, and its last use as this process has written it since: updating
    ``last_used_at`` in place does not renew the entry's time to live, which counts from the
    read."""

    stored: StoredApiKey
    last_used_at: datetime | None

    def key(self) -> StoredApiKey:
        if self.last_used_at == self.stored.last_used_at:
            return self.stored
        return replace(self.stored, last_used_at=self.last_used_at)


class KeyCache:
    """API keys as this process last read them, each kept for at most ``seconds``.

    A request whose key is kept is authenticated without reading the database. A key revoked
    or rotated by another process (another server worker, the CLI) is refused once the copy
    kept here is older than ``seconds``; ``forget`` drops a key at once, for the process that
    revoked or rotated it. With ``seconds`` 0 nothing is kept: each request reads its key.
    Only keys that exist are kept, so a key issued elsewhere works at its first request.
    Thread-safe: a server answers requests on several threads.
    """

    def __init__(
        self, seconds: float, size: int = KEY_CACHE_SIZE, timer: Callable[[], float] = monotonic
    ) -> None:
        self.seconds = seconds
        self._keys: TTLCache[str, _Kept] | None = (
            TTLCache(maxsize=size, ttl=seconds, timer=timer) if seconds > 0 else None
        )
        self._lock = threading.Lock()

    def kept(self, key_id: str) -> StoredApiKey | None:
        """The key if this process keeps it (no database read); else None."""
        if self._keys is None:
            return None
        with self._lock:
            kept = self._keys.get(key_id)
        return None if kept is None else kept.key()

    def find(self, ledger: Ledger, key_id: str) -> StoredApiKey | None:
        if self._keys is None:
            return ledger.store.find_api_key(key_id)
        with self._lock:
            kept = self._keys.get(key_id)
        if kept is not None:
            return kept.key()
        stored = ledger.store.find_api_key(key_id)
        if stored is not None:
            with self._lock:
                self._keys[key_id] = _Kept(stored, stored.last_used_at)
        return stored

    def used(self, key_id: str, at: datetime) -> None:
        """This process wrote ``at`` as the key's last use."""
        if self._keys is not None:
            with self._lock:
                kept = self._keys.get(key_id)
                if kept is not None:
                    kept.last_used_at = at

    def forget(self, key_id: str) -> None:
        if self._keys is not None:
            with self._lock:
                self._keys.pop(key_id, None)


# What reads keys when the caller keeps none (the CLI, embedded use): every call reads.
UNCACHED = KeyCache(0)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key. ``key`` is shown this once and cannot be recovered later."""

    tenant_id: str
    key_id: str
    role: Role
    label: str | None
    key: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    ledger: Ledger,
    tenant_id: str,
    role: str,
    label: str | None = None,
    *,
    key_id: str | None = None,
) -> IssuedKey:
    """A new key of ``role`` for ``tenant_id``; ``key_id`` (16 hex digits) names it, if given,
    so that a key meant to exist once (the demo key) cannot be issued twice."""
    ledger.get_tenant(tenant_id)
    try:
        parsed = Role(role)
    except ValueError as error:
        roles = ", ".join(r.value for r in Role)
        raise ValidationError(f"role must be one of {roles}.", field="role") from error
    if label is not None:
        display_name(label, "label")
    if key_id is None:
        key_id = secrets.token_hex(_KEY_ID_BYTES)
    assert len(key_id) == _KEY_ID_BYTES * 2, key_id
    assert key_id.isalnum(), key_id
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    stored = StoredApiKey(
        tenant_id,
        key_id,
        _hash(secret),
        parsed.value,
        label,
        revoked_at=None,
        created_at=ledger.clock(),
    )
    if not ledger.store.insert_api_key(stored):
        raise AlreadyExists("API key", key_id, [])
    return IssuedKey(tenant_id, key_id, parsed, label, f"{_PREFIX}_{key_id}_{secret}")


def create_tenant(
    ledger: Ledger, tenant_id: str, *, name: str | None = None, timezone: str = "UTC"
) -> tuple[Tenant, IssuedKey]:
    """Create a tenant and its first admin key (the only way to obtain one).

    A tenant that exists already is ``already_exists``: creating it again must not hand out
    another admin key. Issue further keys with ``issue_key`` (an admin's call).
    """
    try:
        tenant = ledger.create_tenant(tenant_id, name=name, timezone=timezone, exist_ok=False)
    except AlreadyExists as exists:
        if exists.context["fields"]:
            raise
        raise refused_again(tenant_id) from exists
    return tenant, issue_key(ledger, tenant.id, Role.ADMIN, FIRST_ADMIN_LABEL)


def refused_again(tenant_id: str) -> AlreadyExists:
    """The refusal of creating ``tenant_id`` again with the same values: why it is refused all
    the same (its first admin key is not handed out twice), and what gets a key."""
    return AlreadyExists(
        "tenant",
        tenant_id,
        [],
        f"Its first admin key was shown once, when it was created; {more_admin_keys(tenant_id)}",
    )


def more_admin_keys(tenant_id: str) -> str:
    """Where a tenant's further admin keys come from, as a sentence."""
    return (
        f"an admin key of the tenant issues more at POST /v1/tenants/{tenant_id}/api-keys, or "
        f"on the server `rewardledger apikey create {tenant_id} --role admin`."
    )


def authenticate(
    ledger: Ledger, tenant_id: str, presented: str | None, keys: KeyCache = UNCACHED
) -> Principal:
    """Who is calling on ``tenant_id`` with ``presented``; raise if nobody valid is. ``keys``
    is where the server keeps keys it has read (see ``KeyCache`` for how long)."""
    key_id, secret = _parsed(presented)
    return _checked(ledger, tenant_id, keys.find(ledger, key_id), secret, keys)


def authenticate_kept(
    ledger: Ledger, tenant_id: str, presented: str | None, keys: KeyCache
) -> Principal | None:
    """``authenticate`` without touching the database, for a caller that must not block (the
    server's event loop): the same principal or refusal when ``keys`` holds the key and its
    last use needs no write; None when only ``authenticate`` can tell."""
    key_id, secret = _parsed(presented)
    stored = keys.kept(key_id)
    if stored is None or _last_use_due(stored, ledger.clock()):
        return None
    return _checked(ledger, tenant_id, stored, secret, keys)


def _parsed(presented: str | None) -> tuple[str, str]:
    """The key id and secret of a presented key; Unauthorized if it is not one."""
    if not presented:
        raise Unauthorized(
            "Send an API key of this tenant as 'Authorization: Bearer rlk_...'. "
            "`rewardledger apikey create TENANT --role ROLE` issues one."
        )
    parts = presented.split("_", 2)
    if len(presented) > _KEY_LENGTH_MAX or len(parts) != 3 or parts[0] != _PREFIX:
        raise Unauthorized("That is not a rewardledger API key; keys start with 'rlk_'.")
    return parts[1], parts[2]


def _last_use_due(stored: StoredApiKey, now: datetime) -> bool:
    return stored.last_used_at is None or stored.last_used_at < now - LAST_USED_RESOLUTION


def _checked(
    ledger: Ledger, tenant_id: str, stored: StoredApiKey | None, secret: str, keys: KeyCache
) -> Principal:
    if stored is None or not hmac.compare_digest(stored.secret_hash, _hash(secret)):
        raise Unauthorized("This API key is not valid; check it was copied in full.")
    if stored.revoked_at is not None:
        raise Unauthorized("This API key was revoked; ask an admin of the tenant for a new one.")
    now = ledger.clock()
    if not stored.usable_at(now):
        raise Unauthorized(
            "This API key was rotated and its overlap has ended; use the key that replaced it "
            "(GET /api-keys lists the tenant's keys)."
        )
    if stored.tenant_id != tenant_id:
        raise NotFound("tenant", tenant_id)
    if _last_use_due(stored, now):
        stale = now - LAST_USED_RESOLUTION
        ledger.store.touch_api_key(stored.tenant_id, stored.key_id, now, stale)
        keys.used(stored.key_id, now)
    return Principal(stored.tenant_id, stored.key_id, Role(stored.role))


def require(principal: Principal, capability: str) -> None:
    if not principal.can(capability):
        roles = [role.value for role, allowed in CAPABILITIES.items() if capability in allowed]
        raise Forbidden(
            f"{with_article(principal.role.value).capitalize()} key cannot do this; use a key "
            f"of role {' or '.join(roles)} (an admin issues one at POST /api-keys).",
            role=principal.role.value,
            needs=capability,
        )


def check_admin_token(configured: str | None, presented: str | None) -> None:
    """Platform administration (creating tenants over HTTP) needs the configured token."""
    if configured is None:
        raise Forbidden(
            "Creating tenants over HTTP is disabled: set REWARDLEDGER_ADMIN_TOKEN on the server, "
            "or use `rewardledger tenant create`."
        )
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    if not presented or not hmac.compare_digest(configured.encode(), presented.encode()):
        raise Unauthorized("Send the platform admin token as 'Authorization: Bearer <token>'.")
