"""Points wallets: earn, spend, activate, balance, accumulations, expiry forecast, summary and
integrity (issue 4). Thin: parse, call one service function, render.

An earn's or a spend's idempotency key (the lot's or the row's id) is the ``Idempotency-Key``
header or ``idempotency_key`` in the body (``reference``, deprecated): a retry returns the
first result with 200 and ``Idempotent-Replayed: true`` (201 the first time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from rewardledger.domain import ids
from rewardledger.domain.limits import (
    ASSET_CODE_LENGTH_MAX,
    HOLDER_ID_LENGTH_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    POINTS_FORECAST_DATES_MAX,
)
from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin, Writer
from rewardledger.http.fields import id_path, id_query
from rewardledger.http.idempotency import IdempotencyKeyHeader, key_of, mark_replay
from rewardledger.http.problems import documented, tenant_route_problems
from rewardledger.http.routes.lists import FIRST_LARGE_PAGE, Cursor, LargePagingQuery, Limit
from rewardledger.http.schemas import ACCOUNT_ID_PATH_PATTERN, OPAQUE_CURSOR_PATTERN, IsoTime
from rewardledger.http.schemas_points import (
    AccumulationsPublic,
    ActivateCreate,
    ExpiringListPublic,
    ExpiringPublic,
    FixPublic,
    LedgerSummaryListPublic,
    LedgerSummaryPagePublic,
    LedgerSummaryPublic,
    PointsBalancePublic,
    PointsMoveCreate,
    PointsMovePublic,
)
from rewardledger.services import points
from rewardledger.services.points import DEFAULT_ASSET, PointsMovement

router = APIRouter(tags=["points"])

HolderPath = Annotated[
    str,
    id_path(ACCOUNT_ID_PATH_PATTERN, HOLDER_ID_LENGTH_MAX, "The holder (the seed's user_id)."),
]
AssetQuery = Annotated[
    str, id_query(f"^(?:{ids.ASSET_CODE_PATTERN})$", ASSET_CODE_LENGTH_MAX, "The points asset.")
]
_READ = tenant_route_problems()
_WRITE = tenant_route_problems("idempotency_conflict", "insufficient_points", "busy")


# Tenant-wide reads come first: their fixed paths must win over /points/{holder}.


@router.get("/tenants/{tid}/points/summary", responses=_READ)
def points_summary(
    ledger: LedgerDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_MAX,
    cursor: Annotated[str | None, Query(pattern=OPAQUE_CURSOR_PATTERN)] = None,
) -> LedgerSummaryPagePublic:
    """Per holder: earned, spent, expired, balance, rows and integrity status
    (the seed's ``v_ledger_summary``), by asset and holder, a page at a time."""
    lines, next_cursor = points.summary_page(
        ledger, principal.tenant_id, limit=limit, cursor=cursor
    )
    return LedgerSummaryPagePublic(
        holders=[LedgerSummaryPublic.of(x) for x in lines], next_cursor=next_cursor
    )


@router.get("/tenants/{tid}/points/integrity", responses=_READ)
def points_integrity(
    ledger: LedgerDep,
    principal: Reader,
    status: Annotated[
        Literal["MISMATCH", "OK"],
        Query(description="MISMATCH (the default): the holders that differ; OK: the others."),
    ] = "MISMATCH",
    paging: LargePagingQuery = FIRST_LARGE_PAGE,
) -> LedgerSummaryListPublic:
    """Holders whose balance differs from their rows or their lots (the seed's
    ``validate_balance_integrity``), by asset and holder, a page at a time; empty when all
    is well."""
    page = points.integrity_page(
        ledger, principal.tenant_id, status=status, cursor=paging.cursor, limit=paging.limit
    )
    return LedgerSummaryListPublic(
        holders=[LedgerSummaryPublic.of(x) for x in page.holders], next_cursor=page.next_cursor
    )


@router.post("/tenants/{tid}/points/integrity/fix", responses=_READ)
def points_integrity_fix(ledger: LedgerDep, principal: TenantAdmin) -> FixPublic:
    """Rebuild balances from the rows, recording each change (``fix_balance_discrepancies``)."""
    return FixPublic.of(points.fix(ledger, principal.tenant_id, actor=f"key:{principal.key_id}"))


def _add_movement_route(name: str, move: Callable[..., PointsMovement], description: str) -> None:
    """Register ``POST .../points/{holder}/<name>`` for ``earn`` or ``spend``: the same body and
    answer, one service call each."""

    def endpoint(
        holder: HolderPath,
        body: PointsMoveCreate,
        response: Response,
        ledger: LedgerDep,
        principal: Writer,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> PointsMovePublic:
        sent = {"idempotency_key": body.idempotency_key, "reference": body.reference}
        moved = move(
            ledger,
            principal.tenant_id,
            holder,
            body.amount,
            dtype=body.dtype,
            reference=key_of(idempotency_key, sent),
            asset=body.asset,
            metadata=body.metadata,
        )
        mark_replay(response, moved.replayed)
        return PointsMovePublic.of(moved)

    router.add_api_route(
        f"/tenants/{{tid}}/points/{{holder}}/{name}",
        endpoint,
        methods=["POST"],
        name=name,
        description=description,
        status_code=201,
        responses=_WRITE,
    )


_add_movement_route(
    "earn", points.earn, "Credit points as a new lot (pending if the reason says so)."
)
_add_movement_route(
    "spend",
    points.spend,
    "Debit points, soonest-expiring lots first; ``insufficient_points`` writes nothing.",
)


@router.post(
    "/tenants/{tid}/points/{holder}/activate",
    responses=_WRITE | documented("points_not_pending"),
)
def activate(
    holder: HolderPath, body: ActivateCreate, ledger: LedgerDep, principal: Writer
) -> PointsMovePublic:
    """Activate pending points earned under ``reference`` (or cancel them, with ``cancel``)."""
    resolve = points.cancel_pending if body.cancel else points.activate
    return PointsMovePublic.of(resolve(ledger, principal.tenant_id, body.reference, holder=holder))


@router.get("/tenants/{tid}/points/{holder}", responses=_READ)
def balance(
    holder: HolderPath,
    ledger: LedgerDep,
    principal: Reader,
    asset: AssetQuery = DEFAULT_ASSET,
    at: Annotated[IsoTime | None, Query(description="A past time: the balance then.")] = None,
) -> PointsBalancePublic:
    """The holder's balance (available, pending, last update), or as of ``at``."""
    return PointsBalancePublic.of(
        points.balance(ledger, principal.tenant_id, holder, asset=asset, at=at)
    )


@router.get("/tenants/{tid}/points/{holder}/accumulations", responses=_READ)
def accumulations(
    holder: HolderPath,
    ledger: LedgerDep,
    principal: Reader,
    asset: AssetQuery = DEFAULT_ASSET,
    accum_type: Annotated[str | None, Query(pattern="^(earn|spend|expire)$")] = None,
    since: Annotated[IsoTime | None, Query(alias="from")] = None,
    until: Annotated[IsoTime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, Query(pattern=OPAQUE_CURSOR_PATTERN)] = None,
) -> AccumulationsPublic:
    """The holder's rows in the seed's shape, newest first, each with the balance after it."""
    page = points.accumulations(
        ledger,
        principal.tenant_id,
        holder,
        asset=asset,
        accum_type=accum_type,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return AccumulationsPublic.of(page)


@router.get("/tenants/{tid}/points/{holder}/expiring", responses=_READ)
def expiring(
    holder: HolderPath,
    ledger: LedgerDep,
    principal: Reader,
    asset: AssetQuery = DEFAULT_ASSET,
    limit: Limit = POINTS_FORECAST_DATES_MAX,
    cursor: Cursor = None,
) -> ExpiringListPublic:
    """What will expire on which dates, if not spent first, soonest first, a page at a time."""
    page = points.expiring_page(
        ledger, principal.tenant_id, holder, asset=asset, cursor=cursor, limit=limit
    )
    return ExpiringListPublic(
        user_id=holder,
        expiring=[ExpiringPublic(expires_at=d, amount=str(a)) for d, a in page.expiring],
        next_cursor=page.next_cursor,
    )
