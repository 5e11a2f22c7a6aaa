"""More of what the points service asks its store, as values (beside ``points_queries``).

Owns: ``ReasonQuery`` and ``ExpiringQuery`` (which rows a page of reason codes or of a
holder's expiring points shows), ``AssetHolders`` (the holders of one asset a use case locks)
and ``AssetExpiry`` (a points asset's expiry policy as it is written). Each crosses the points
store's port unchanged, so the port and the store share one short signature.

Pure: the standard library and ``domain.points`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain.points import ExpiryPolicy


@dataclass(frozen=True, slots=True)
class ReasonQuery:
    """A page of reason codes by (direction, code): at most ``limit``, after ``after`` (if
    given), only of ``direction`` (all when None)."""

    direction: str | None
    after: tuple[str, str] | None
    limit: int


@dataclass(frozen=True, slots=True)
class ExpiringQuery:
    """A page of what ``holder_id``'s active lots on ``asset_code`` will expire, soonest
    first: at most ``limit`` expiry times, after ``after`` (if given)."""

    asset_code: str
    holder_id: str
    after: datetime | None
    limit: int


@dataclass(frozen=True, slots=True)
class AssetHolders:
    """The holders ``holder_ids`` of points on ``asset_code``."""

    asset_code: str
    holder_ids: tuple[str, ...]

    @classmethod
    def one(cls, asset_code: str, holder_id: str) -> AssetHolders:
        """The one holder ``holder_id`` (what every use case but an import locks)."""
        return cls(asset_code, (holder_id,))


@dataclass(frozen=True, slots=True)
class AssetExpiry:
    """The expiry policy ``expiry`` of the points asset ``asset_code``."""

    asset_code: str
    expiry: ExpiryPolicy
