"""Pages of the points programme's lists: its points assets, its reason codes, a holder's
expiry forecast, and the holders whose balance differs from their rows or lots.

Owns: checking each list's filters and cursor and making the next page's cursor, with the one
codec of every list (``domain.paging``). A page asks for one row more than ``limit``, so
``next_cursor`` is null on the last page. Cursors: an asset's code; a reason's direction and
code; an expiry time (whole microseconds); a holder's asset and id.

The integrity page keeps the seed's meaning (``validate_balance_integrity``): by default only
the holders whose ``integrity_status`` is ``MISMATCH``; ``status="OK"`` lists the others. It
walks the holders in chunks (``INTEGRITY_CHUNK_SIZE``) until it has a page, so a page of a
tenant with few mismatches may read every holder after the cursor, as a full check does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    INTEGRITY_CHUNK_SIZE,
    PAGE_SIZE_MAX,
    POINTS_FORECAST_DATES_MAX,
)
from rewardledger.domain.money import Amount
from rewardledger.domain.paging import (
    decode_cursor,
    instant_of_part,
    instant_part,
    page_limit,
    page_of,
    text_after,
)
from rewardledger.domain.points import Direction, Reason
from rewardledger.domain.points_requests import ExpiringQuery, ReasonQuery
from rewardledger.ledger.engine import Ledger
from rewardledger.services.points.catalogue import asset_policy, check_holder
from rewardledger.services.points.integrity import (
    holder_key,
    holders_after,
    holders_after_cursor,
    summaries,
)
from rewardledger.services.points.port import store_of
from rewardledger.services.points.setup import PointsAsset, points_asset
from rewardledger.services.points.views import DEFAULT_ASSET, HolderIntegrity

INTEGRITY_STATUSES = ("MISMATCH", "OK")


@dataclass(frozen=True, slots=True)
class PointsAssetPage:
    assets: list[PointsAsset]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ReasonPage:
    reasons: list[Reason]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ExpiringPage:
    holder: str
    asset: str
    expiring: list[tuple[datetime, Amount]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class IntegrityPage:
    holders: list[HolderIntegrity]
    next_cursor: str | None


def points_assets_page(
    ledger: Ledger, tenant_id: str, *, cursor: str | None = None, limit: int | None = None
) -> PointsAssetPage:
    """The tenant's points assets by code, with their expiry policies, a page at a time."""
    size = page_limit(limit)
    after = text_after(cursor)
    ledger.get_tenant(tenant_id)
    codes = store_of(ledger).points_assets_page(tenant_id, after, size + 1)
    kept, next_cursor = page_of(codes, size, lambda code: (code,))
    return PointsAssetPage([points_asset(ledger, tenant_id, code) for code in kept], next_cursor)


def reasons_page(
    ledger: Ledger,
    tenant_id: str,
    *,
    direction: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> ReasonPage:
    """The tenant's reason codes by direction and code (only ``direction``'s, if given)."""
    size = page_limit(limit)
    after = None
    if cursor is not None:
        side, code = decode_cursor(cursor, str, str)
        after = (str(side), str(code))
    if direction is not None and direction not in tuple(Direction):
        raise ValidationError("direction must be earn or spend.", field="direction")
    ledger.get_tenant(tenant_id)
    chosen = None if direction is None else Direction(direction).value
    rows = store_of(ledger).reasons_page(tenant_id, ReasonQuery(chosen, after, size + 1))
    return ReasonPage(*page_of(rows, size, lambda reason: (reason.direction, reason.code)))


def expiring_page(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    *,
    asset: str = DEFAULT_ASSET,
    cursor: str | None = None,
    limit: int | None = None,
) -> ExpiringPage:
    """What will expire when, if not spent first: (expires_at, points), soonest first."""
    size = page_limit(limit, default=POINTS_FORECAST_DATES_MAX)
    after = None if cursor is None else instant_of_part(decode_cursor(cursor, int)[0])
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    scale = ledger.get_asset(tenant_id, asset).scale
    rows = store_of(ledger).expiring_page(tenant_id, ExpiringQuery(asset, holder, after, size + 1))
    kept, next_cursor = page_of(rows, size, lambda row: (instant_part(row[0]),))
    page = [(moment, Amount(amount, scale)) for moment, amount in kept]
    return ExpiringPage(holder, asset, page, next_cursor)


def integrity_page(
    ledger: Ledger,
    tenant_id: str,
    *,
    status: str = "MISMATCH",
    cursor: str | None = None,
    limit: int | None = None,
) -> IntegrityPage:
    """The holders whose ``integrity_status`` is ``status`` (MISMATCH: balance differs from
    their rows or their lots), by asset and holder, a page at a time."""
    size = page_limit(limit, default=PAGE_SIZE_MAX)
    after = holders_after_cursor(cursor)
    if status not in INTEGRITY_STATUSES:
        raise ValidationError("status must be MISMATCH or OK.", field="status")
    found: list[HolderIntegrity] = []
    while len(found) <= size:
        lines = summaries(ledger, tenant_id, INTEGRITY_CHUNK_SIZE, after)
        found += [line for line in lines if line.integrity_status == status]
        if len(lines) < INTEGRITY_CHUNK_SIZE:
            break
        after = holders_after(*holder_key(lines[-1]))
    return IntegrityPage(*page_of(found, size, holder_key))
