"""Setting up points over HTTP: points assets with their expiry policy, reason codes with
their pending and expiry settings. Thin: parse, call one service function, render.

Writes need a key of role ``admin``; reads any role that reads. Configuring or creating what
exists identically writes nothing and answers 200 with ``Idempotent-Replayed: true``; a real
difference is ``already_exists`` (409) saying what differs and which route changes it. Each
write also takes an ``Idempotency-Key`` (``http.keyed_writes``): a retry answers the first
result, another body under the same key is ``idempotency_conflict``.

Registered before ``routes.points``: its fixed paths must win over ``/points/{holder}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from rewardledger.domain import ids
from rewardledger.domain.limits import ASSET_CODE_LENGTH_MAX, REASON_LENGTH_MAX
from rewardledger.domain.points import Direction
from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin
from rewardledger.http.fields import id_path
from rewardledger.http.idempotency import IdempotencyKeyHeader, mark_replay
from rewardledger.http.keyed_writes import keyed
from rewardledger.http.problems import tenant_route_problems
from rewardledger.http.routes.lists import FIRST_LARGE_PAGE, LargePagingQuery
from rewardledger.http.schemas_points_setup import (
    PointsAssetListPublic,
    PointsAssetPublic,
    PointsAssetUpdate,
    PointsConfigure,
    ReasonCreate,
    ReasonListPublic,
    ReasonPublic,
    ReasonSettings,
)
from rewardledger.services import points

router = APIRouter(tags=["points set-up"])

AssetPath = Annotated[
    str,
    id_path(
        f"^(?:{ids.ASSET_CODE_PATTERN})$",
        ASSET_CODE_LENGTH_MAX,
        "The points asset, such as LUMIS.",
        examples=["LUMIS"],
    ),
]
DirectionPath = Annotated[Direction, Path(description="earn or spend", examples=["earn"])]
DtypePath = Annotated[
    str,
    id_path(
        f"^(?:{ids.REASON_PATTERN})$",
        REASON_LENGTH_MAX,
        "The reason code (the seed's dtype).",
        examples=["birthday"],
    ),
]
_READ = tenant_route_problems()
_WRITE = tenant_route_problems("already_exists", "idempotency_conflict")


@router.post(
    "/tenants/{tid}/points/configure",
    status_code=201,
    responses=_WRITE,
    summary="Make an asset a points asset",
)
def configure(
    body: PointsConfigure,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> PointsAssetPublic:
    """Make ``asset`` a points asset (created with ``scale`` if missing) with its expiry policy,
    and add the seed's reason codes it lacks (as ``rewardledger points configure``). The same
    settings again, or leaving ``scale``/``expiry`` out, change nothing (200)."""

    def write() -> PointsAssetPublic:
        expiry = None if body.expiry is None else body.expiry.policy()
        made = points.configure(
            ledger, principal.tenant_id, body.asset, scale=body.scale, expiry=expiry
        )
        mark_replay(response, not made.created)
        return PointsAssetPublic.of(made)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="POST /points/configure",
        header=idempotency_key,
        body=body,
        public=PointsAssetPublic,
        write=write,
    )


@router.get("/tenants/{tid}/points/assets", responses=_READ, summary="List the points assets")
def list_assets(
    ledger: LedgerDep, principal: Reader, paging: LargePagingQuery = FIRST_LARGE_PAGE
) -> PointsAssetListPublic:
    """The tenant's points assets with their expiry policies, by code, a page at a time."""
    page = points.points_assets_page(
        ledger, principal.tenant_id, cursor=paging.cursor, limit=paging.limit
    )
    return PointsAssetListPublic(
        assets=[PointsAssetPublic.of(a) for a in page.assets], next_cursor=page.next_cursor
    )


@router.get("/tenants/{tid}/points/assets/{asset}", responses=_READ, summary="Read a points asset")
def get_asset(asset: AssetPath, ledger: LedgerDep, principal: Reader) -> PointsAssetPublic:
    """One points asset: its scale and expiry policy."""
    return PointsAssetPublic.of(points.points_asset(ledger, principal.tenant_id, asset))


@router.put(
    "/tenants/{tid}/points/assets/{asset}",
    responses=_WRITE,
    summary="Change a points asset's expiry policy",
)
def update_asset(
    asset: AssetPath,
    body: PointsAssetUpdate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> PointsAssetPublic:
    """Set the expiry policy of lots earned from now on; lots earned before keep theirs."""

    def write() -> PointsAssetPublic:
        changed = points.update_asset(ledger, principal.tenant_id, asset, body.expiry.policy())
        return PointsAssetPublic.of(changed)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="PUT /points/assets/{asset}",
        header=idempotency_key,
        body=body,
        path={"asset": asset},
        public=PointsAssetPublic,
        write=write,
    )


@router.get("/tenants/{tid}/points/reasons", responses=_READ, summary="List the reason codes")
def list_reasons(
    ledger: LedgerDep,
    principal: Reader,
    direction: Annotated[Direction | None, Query(description="Only earn or spend reasons.")] = None,
    paging: LargePagingQuery = FIRST_LARGE_PAGE,
) -> ReasonListPublic:
    """The tenant's reason codes (dtypes) with their settings, by direction and code, a page
    at a time."""
    page = points.reasons_page(
        ledger, principal.tenant_id, direction=direction, cursor=paging.cursor, limit=paging.limit
    )
    return ReasonListPublic(
        reasons=[ReasonPublic.of(r) for r in page.reasons], next_cursor=page.next_cursor
    )


@router.post(
    "/tenants/{tid}/points/reasons",
    status_code=201,
    responses=_WRITE,
    summary="Add a reason code",
)
def create_reason(
    body: ReasonCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReasonPublic:
    """Add a reason code with its settings; the same settings again change nothing (200)."""

    def write() -> ReasonPublic:
        wanted = body.reason(Direction(body.direction), body.dtype)
        made, written = points.create_reason(ledger, principal.tenant_id, wanted)
        mark_replay(response, not written)
        return ReasonPublic.of(made)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="POST /points/reasons",
        header=idempotency_key,
        body=body,
        public=ReasonPublic,
        write=write,
    )


@router.get(
    "/tenants/{tid}/points/reasons/{direction}/{dtype}",
    responses=_READ,
    summary="Read a reason code",
)
def get_reason(
    direction: DirectionPath, dtype: DtypePath, ledger: LedgerDep, principal: Reader
) -> ReasonPublic:
    """One reason code and its settings."""
    return ReasonPublic.of(points.reason(ledger, principal.tenant_id, direction, dtype))


@router.put(
    "/tenants/{tid}/points/reasons/{direction}/{dtype}",
    responses=_WRITE,
    summary="Set a reason code's settings",
)
def put_reason(
    direction: DirectionPath,
    dtype: DtypePath,
    body: ReasonSettings,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReasonPublic:
    """Add the reason code, or replace its settings (pending, negative balance, expiry)."""

    def write() -> ReasonPublic:
        wanted = body.reason(direction, dtype)
        return ReasonPublic.of(points.add_reason(ledger, principal.tenant_id, wanted))

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="PUT /points/reasons/{direction}/{dtype}",
        header=idempotency_key,
        body=body,
        path={"direction": direction.value, "dtype": dtype},
        public=ReasonPublic,
        write=write,
    )
