"""Access: who may do what within a tenant.

Owns: the roles and what each may do. A key belongs to one tenant; it is shown once, when it
is issued, and only its hash is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything in the tenant: keys, assets, accounts, transfers, repair
    WRITER = "writer"  # accounts and transfers, and every read
    READER = "reader"  # reads only
    MERCHANT = "merchant"  # validates redemption codes at a till and reads redemptions


# What each role may do; a route names the capability it needs. ``read_redemptions`` is the
# reading of redemptions: every role that reads has it, and a merchant, who confirms them and
# so must be able to look one up (its code, state and offer) at the till.
CAPABILITIES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({"read", "write", "admin", "redeem", "read_redemptions"}),
    Role.WRITER: frozenset({"read", "write", "read_redemptions"}),
    Role.READER: frozenset({"read", "read_redemptions"}),
    Role.MERCHANT: frozenset({"redeem", "read_redemptions"}),
}


@dataclass(frozen=True, slots=True)
class StoredApiKey:
    tenant_id: str
    key_id: str
    secret_hash: str
    role: str
    label: str | None
    revoked_at: datetime | None
    created_at: datetime
    expires_at: datetime | None = None  # set by a rotation: valid until then, not after
    last_used_at: datetime | None = None  # to a minute (services.access.LAST_USED_RESOLUTION)

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor past the end of a rotation's overlap."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid key."""

    tenant_id: str
    key_id: str
    role: Role

    def can(self, capability: str) -> bool:
        return capability in CAPABILITIES[self.role]
