"""Points reads: a holder's balance (now or as of a time), its rows in the seed's
``fact_accumulations`` shape page by page, and what will expire when.

Owns: the read side of points; nothing here writes. The accumulation pages use the one cursor
codec (``domain.paging``) over the journal's ``seq``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT, POINTS_FORECAST_DATES_MAX
from rewardledger.domain.money import Amount
from rewardledger.domain.paging import decode_cursor, encode_cursor, page_limit
from rewardledger.domain.points import KIND_EXPIRE, AccumType, holder_account_id
from rewardledger.domain.points_queries import AccumulationQuery
from rewardledger.domain.points_requests import ExpiringQuery
from rewardledger.domain.transfers import check_instant
from rewardledger.ledger.engine import Ledger
from rewardledger.services.points.catalogue import asset_policy, check_holder
from rewardledger.services.points.port import store_of
from rewardledger.services.points.views import (
    DEFAULT_ASSET,
    Accumulation,
    AccumulationPage,
    PointsBalance,
)


def balance(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    *,
    asset: str = DEFAULT_ASSET,
    at: datetime | None = None,
) -> PointsBalance:
    """The holder's balance now (available and pending), or its balance as of ``at``."""
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    scale = ledger.get_asset(tenant_id, asset).scale
    if not store_of(ledger).holder_exists(tenant_id, asset, holder):
        zero = Amount(0, scale)
        return PointsBalance(holder, asset, zero, zero, zero, None, at)
    account_id = holder_account_id(asset, holder)
    if at is not None:
        view = ledger.balance(tenant_id, account_id, at=check_instant(at, "at"))
        zero = Amount(0, scale)
        return PointsBalance(holder, asset, view.posted, view.posted, zero, None, at)
    account = ledger.get_account(tenant_id, account_id)
    b = account.balances
    return PointsBalance(
        holder,
        asset,
        Amount(b.posted, scale),
        Amount(b.available, scale),
        Amount(b.credits_pending, scale),
        account.updated_at,
        None,
    )


def accumulations(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    *,
    asset: str = DEFAULT_ASSET,
    accum_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> AccumulationPage:
    """The holder's rows in the seed's ``fact_accumulations`` shape, newest first."""
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    limit = page_limit(limit)
    kind = _accum_type(accum_type)
    before = None if cursor is None else int(decode_cursor(cursor, int)[0])
    if since is not None:
        check_instant(since, "from")
    if until is not None:
        check_instant(until, "to")
    scale = ledger.get_asset(tenant_id, asset).scale
    wanted = AccumulationQuery(holder_account_id(asset, holder), kind, since, until, before, limit)
    rows = store_of(ledger).accumulations(tenant_id, wanted)
    page = [_accumulation(row, holder, scale) for row in rows]
    more = len(page) == limit and page[-1].seq > 1
    return AccumulationPage(holder, page, encode_cursor(page[-1].seq) if more else None)


def _accum_type(value: str | None) -> AccumType | None:
    if value is None:
        return None
    try:
        return AccumType(value)
    except ValueError as error:
        raise ValidationError(
            "accum_type must be earn, spend or expire.", field="accum_type"
        ) from error


def _accumulation(row: dict[str, Any], holder: str, scale: int) -> Accumulation:
    metadata = row["metadata"] or {}
    return Accumulation(
        id=row["transfer_id"],
        user_id=holder,
        accum_type=(
            AccumType.EXPIRE.value
            if row["kind"] == KIND_EXPIRE
            else AccumType.EARN.value
            if row["quantity_minor"] > 0
            else AccumType.SPEND.value
        ),
        dtype=row["reason"],
        quantity=Amount(row["quantity_minor"], scale),
        balance=Amount(int(row["balance_after"]), scale),
        date=row["effective_at"],
        redemption_id=metadata.get("redemption_id"),
        negative_allowed=bool(metadata.get("negative_allowed")),
        seq=int(row["seq"]),
    )


def expiring(
    ledger: Ledger, tenant_id: str, holder: str, *, asset: str = DEFAULT_ASSET
) -> list[tuple[datetime, Amount]]:
    """What will expire when, if not spent first: (expires_at, points), soonest first."""
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    scale = ledger.get_asset(tenant_id, asset).scale
    return [
        (moment, Amount(amount, scale))
        for moment, amount in store_of(ledger).expiring_page(
            tenant_id, ExpiringQuery(asset, holder, None, POINTS_FORECAST_DATES_MAX)
        )
    ]
