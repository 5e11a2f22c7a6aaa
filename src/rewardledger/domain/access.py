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
    MERCHANT = "merchant"  # validates redemption codes at a till; nothing else


# What each role may do; a route names the capability it needs.
CAPABILITIES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({"read", "write", "admin", "redeem"}),
    Role.WRITER: frozenset({"read", "write"}),
    Role.READER: frozenset({"read"}),
    Role.MERCHANT: frozenset({"redeem"}),
}


@dataclass(frozen=True, slots=True)
class StoredApiKey:
    tenant_id: str
    key_id: str
    secret_hash: str
    role: str
    label: str | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid key."""

    tenant_id: str
    key_id: str
    role: Role

    def can(self, capability: str) -> bool:
        return capability in CAPABILITIES[self.role]
