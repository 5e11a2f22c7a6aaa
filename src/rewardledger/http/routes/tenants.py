"""Tenants and API keys: POST /v1/tenants (platform admin) and POST /v1/tenants/{tid}/api-keys.

A tenant is created with its first admin key, the only way to obtain one over HTTP; an admin
key then issues the tenant's other keys. A key is shown in the response that issues it only.
"""

from __future__ import annotations

from fastapi import APIRouter

from rewardledger.http.deps import LedgerDep, PlatformAdmin, TenantAdmin
from rewardledger.http.problems import documented
from rewardledger.http.schemas import (
    ApiKeyCreate,
    ApiKeyPublic,
    TenantCreate,
    TenantCreatedPublic,
    TenantPublic,
)
from rewardledger.services import access

router = APIRouter(tags=["tenants"])


@router.post(
    "/tenants",
    status_code=201,
    dependencies=[PlatformAdmin],
    responses=documented("validation_error", "unauthorized", "forbidden", "already_exists"),
)
def create_tenant(body: TenantCreate, ledger: LedgerDep) -> TenantCreatedPublic:
    """Create a tenant and its first admin key (needs the platform admin token).

    Sending the same values again returns the tenant with another new admin key.
    """
    tenant, key = access.create_tenant(ledger, body.id, name=body.name, timezone=body.timezone)
    return TenantCreatedPublic(tenant=TenantPublic.of(tenant), api_key=ApiKeyPublic.of(key))


@router.post(
    "/tenants/{tid}/api-keys",
    status_code=201,
    responses=documented("validation_error", "unauthorized", "forbidden", "not_found"),
)
def create_api_key(body: ApiKeyCreate, ledger: LedgerDep, principal: TenantAdmin) -> ApiKeyPublic:
    """Issue an API key of this tenant with a role: admin, writer, reader or merchant."""
    return ApiKeyPublic.of(access.issue_key(ledger, principal.tenant_id, body.role, body.label))
