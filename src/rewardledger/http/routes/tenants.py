"""Tenants and API keys: POST /v1/tenants (platform admin) and the tenant's /api-keys routes.

A tenant is created with its first admin key, the only way to obtain one over HTTP; an admin
key then issues, lists, revokes and rotates the tenant's other keys (``services.api_keys``).
A key's secret is shown in the answer that issues it only. ``POST /tenants``, ``POST /api-keys``
and ``rotate`` with an ``Idempotency-Key`` mint at most one key per idempotency key: a retry is
answered 200 with ``Idempotent-Replayed: true``, the same ``key_id`` and no secret (it is not
stored).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.http.deps import KeysDep, LedgerDep, PlatformAdmin, TenantAdmin
from rewardledger.http.idempotency import (
    BODY_FIELD,
    IdempotencyKeyHeader,
    key_of,
    mark_replay,
)
from rewardledger.http.problems import documented, tenant_route_problems
from rewardledger.http.routes.lists import Cursor
from rewardledger.http.schemas import TRANSFER_ID_PATH_PATTERN, ApiKeyCreate, TenantCreate
from rewardledger.http.schemas_keys import (
    ApiKeyInfo,
    ApiKeyIssuedPublic,
    ApiKeyPagePublic,
    ApiKeyRotate,
    ApiKeyRotatedPublic,
    TenantCreatedPublic,
)
from rewardledger.services import api_keys

router = APIRouter(tags=["tenants"])

KEY_ID_PATTERN = r"^[0-9a-f]{16}$"
IDEMPOTENCY_KEY_LENGTH_MAX = 128
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_KEY_LENGTH_MAX,
        pattern=TRANSFER_ID_PATH_PATTERN,
        description="Makes the request safe to retry: one key is minted per idempotency key.",
    ),
]
KeyIdPath = Annotated[
    str, Path(alias="key_id", pattern=KEY_ID_PATTERN, description="The key's id (16 hex digits).")
]
_KEYS = tenant_route_problems()


@router.post(
    "/tenants",
    status_code=201,
    dependencies=[PlatformAdmin],
    responses=documented(
        "validation_error", "unauthorized", "forbidden", "already_exists", "idempotency_conflict"
    ),
)
def create_tenant(
    body: TenantCreate,
    response: Response,
    ledger: LedgerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TenantCreatedPublic:
    """Create a tenant and its first admin key (needs the platform admin token).

    Under an ``Idempotency-Key`` a retry with the same values answers 200, replayed, with the
    same tenant and key id but no secret (shown in the first answer only); other values are
    409 ``idempotency_conflict``. A tenant that exists already is otherwise 409
    ``already_exists``, with the same values too: its first admin key is shown once, and an
    admin of the tenant issues more at ``/api-keys``.
    """
    key = key_of(idempotency_key, {BODY_FIELD: body.idempotency_key}, required=False)
    created = api_keys.create_tenant(
        ledger, body.id, name=body.name, timezone=body.timezone, idempotency_key=key or None
    )
    mark_replay(response, created.key.replayed)
    return TenantCreatedPublic.of(created)


@router.post(
    "/tenants/{tid}/api-keys",
    status_code=201,
    responses=_KEYS | documented("idempotency_conflict"),
    summary="Issue an API key",
)
def create_api_key(
    body: ApiKeyCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKey = None,
) -> ApiKeyIssuedPublic:
    """Issue an API key of this tenant with a role: admin, writer, reader or merchant.

    Its secret (``key``) is in this answer only. With an ``Idempotency-Key``, a retry answers
    the same key's metadata without the secret.
    """
    key = key_of(idempotency_key, {BODY_FIELD: body.idempotency_key}, required=False)
    made = api_keys.issue(
        ledger, principal.tenant_id, body.role, body.label, idempotency_key=key or None
    )
    mark_replay(response, made.replayed)
    return ApiKeyIssuedPublic.issued(made)


@router.get("/tenants/{tid}/api-keys", responses=_KEYS, summary="List the tenant's API keys")
def list_api_keys(
    ledger: LedgerDep,
    principal: TenantAdmin,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Keys per page.")] = (
        PAGE_SIZE_MAX
    ),
    cursor: Cursor = None,
) -> ApiKeyPagePublic:
    """The tenant's keys (never their secrets), with when each was last used."""
    return ApiKeyPagePublic.of(
        api_keys.list_keys(ledger, principal.tenant_id, cursor=cursor, limit=limit)
    )


@router.post(
    "/tenants/{tid}/api-keys/{key_id}/revoke", responses=_KEYS, summary="Revoke an API key"
)
def revoke_api_key(
    key_id: KeyIdPath, ledger: LedgerDep, keys: KeysDep, principal: TenantAdmin
) -> ApiKeyInfo:
    """Revoke a key: every request with it is 401 from now on in this server process, and in
    its other processes within REWARDLEDGER_API_KEY_CACHE_SECONDS (default 5)."""
    revoked = api_keys.revoke(ledger, principal.tenant_id, key_id)
    keys.forget(key_id)
    return ApiKeyInfo.of(revoked)


@router.post(
    "/tenants/{tid}/api-keys/{key_id}/rotate",
    status_code=201,
    responses=_KEYS | documented("idempotency_conflict"),
    summary="Rotate an API key",
)
def rotate_api_key(
    key_id: KeyIdPath,
    response: Response,
    ledger: LedgerDep,
    keys: KeysDep,
    principal: TenantAdmin,
    body: ApiKeyRotate | None = None,
    idempotency_key: IdempotencyKey = None,
) -> ApiKeyRotatedPublic:
    """Mint a new key with the old one's role and label; the old one keeps working for
    ``overlap_seconds`` (default a day) and not after."""
    asked = body or ApiKeyRotate()
    key = key_of(idempotency_key, {BODY_FIELD: asked.idempotency_key}, required=False)
    rotation = api_keys.rotate(
        ledger,
        principal.tenant_id,
        key_id,
        overlap_seconds=asked.overlap_seconds,
        idempotency_key=key or None,
    )
    keys.forget(key_id)
    mark_replay(response, rotation.new.replayed)
    return ApiKeyRotatedPublic.of(rotation)
