"""Assets: POST /v1/tenants/{tid}/assets (admin). What a tenant's accounts count, and its scale."""

from __future__ import annotations

from fastapi import APIRouter

from rewardledger.http.deps import LedgerDep, TenantAdmin
from rewardledger.http.problems import documented
from rewardledger.http.schemas import AssetCreate, AssetPublic

router = APIRouter(tags=["assets"])


@router.post(
    "/tenants/{tid}/assets",
    status_code=201,
    responses=documented(
        "validation_error", "unauthorized", "forbidden", "not_found", "already_exists"
    ),
)
def create_asset(body: AssetCreate, ledger: LedgerDep, principal: TenantAdmin) -> AssetPublic:
    """Create an asset: a currency (USD, scale 2) or a points programme (LUMIS, scale 0).

    Sending the same values again returns the asset; other values are ``already_exists``.
    """
    asset = ledger.create_asset(principal.tenant_id, body.code, scale=body.scale, name=body.name)
    return AssetPublic.of(asset)
