"""Assets: POST /v1/tenants/{tid}/assets (admin). What a tenant's accounts count, and its scale."""

from __future__ import annotations

from fastapi import APIRouter, Response

from rewardledger.http.deps import LedgerDep, TenantAdmin
from rewardledger.http.idempotency import IdempotencyKeyHeader
from rewardledger.http.keyed_writes import keyed
from rewardledger.http.problems import tenant_route_problems
from rewardledger.http.schemas import AssetCreate, AssetPublic

router = APIRouter(tags=["assets"])


@router.post(
    "/tenants/{tid}/assets",
    status_code=201,
    responses=tenant_route_problems(
        "already_exists",
        "idempotency_conflict",
    ),
)
def create_asset(
    body: AssetCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AssetPublic:
    """Create an asset: a currency (USD, scale 2) or a points programme (LUMIS, scale 0).

    Sending the same values again returns the asset; other values are ``already_exists``.
    Under an ``Idempotency-Key`` a retry answers the first result; another body under the
    same key is ``idempotency_conflict``.
    """

    def write() -> AssetPublic:
        asset = ledger.create_asset(
            principal.tenant_id, body.code, scale=body.scale, name=body.name
        )
        return AssetPublic.of(asset)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="POST /assets",
        header=idempotency_key,
        body=body,
        public=AssetPublic,
        write=write,
    )
