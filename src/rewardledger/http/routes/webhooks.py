"""Webhook endpoints: add, list, show, update, remove, rotate the secret (admin to write,
reader to read), each endpoint's deliveries with their attempts, and redelivery of one event
or of a range (admin). docs/webhooks.md says how receivers verify the signatures.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from rewardledger.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from rewardledger.domain.webhooks import ENDPOINT_ID_PATTERN, WEBHOOK_ENDPOINT_ID_LENGTH_MAX
from rewardledger.events import webhooks
from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin
from rewardledger.http.idempotency import BODY_FIELD, IdempotencyKeyHeader, key_of
from rewardledger.http.keyed_writes import keyed, keyed_endpoint_id
from rewardledger.http.problems import documented, tenant_route_problems
from rewardledger.http.routes.lists import Cursor
from rewardledger.http.schemas_webhooks import (
    DeliveriesPublic,
    EndpointCreate,
    EndpointPublic,
    EndpointSecretPublic,
    EndpointsPublic,
    EndpointUpdate,
    RedeliverRange,
    RedeliveryPublic,
    SecretRotation,
)

router = APIRouter(tags=["webhooks"])

EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,35}$"
EndpointIdPath = Annotated[
    str,
    Path(
        description="The endpoint's id (from its creation).",
        max_length=WEBHOOK_ENDPOINT_ID_LENGTH_MAX,
        pattern=ENDPOINT_ID_PATTERN,
        examples=["ep_0f3c9a51c2b84d7e9a1b2c3d4e5f6a7b"],
    ),
]
EventIdPath = Annotated[
    str, Path(description="The event's id.", max_length=36, pattern=EVENT_ID_PATTERN)
]
Limit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Items per page.")]
_READ = tenant_route_problems()
_WRITE = tenant_route_problems()


@router.post(
    "/tenants/{tid}/webhooks",
    status_code=201,
    summary="Add a webhook endpoint",
    responses=_WRITE | documented("idempotency_conflict"),
)
def create_webhook(
    body: EndpointCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> EndpointSecretPublic:
    """Add an endpoint subscribed to ``event_types`` (``["*"]``: every type). The answer
    carries the signing secret (``whsec_...``), shown this once, and again to a retry under
    the same ``Idempotency-Key`` (which adds no second endpoint)."""

    sent = key_of(idempotency_key, {BODY_FIELD: body.idempotency_key}, required=False)

    def write() -> EndpointSecretPublic:
        created = webhooks.add_endpoint(
            ledger,
            principal.tenant_id,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            enabled=body.enabled,
            # Named by its key: two requests racing under one key make one endpoint.
            endpoint_id=keyed_endpoint_id(principal.tenant_id, sent) if sent else None,
        )
        return EndpointSecretPublic.with_secret(created)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="POST /webhooks",
        header=idempotency_key,
        body=body,
        public=EndpointSecretPublic,
        write=write,
    )


@router.get("/tenants/{tid}/webhooks", summary="List webhook endpoints", responses=_READ)
def list_webhooks(
    ledger: LedgerDep, principal: Reader, limit: Limit = PAGE_SIZE_DEFAULT, cursor: Cursor = None
) -> EndpointsPublic:
    """The tenant's endpoints in id order (secrets are never listed)."""
    page = webhooks.list_endpoints(ledger, principal.tenant_id, cursor=cursor, limit=limit)
    return EndpointsPublic.of(page)


@router.get("/tenants/{tid}/webhooks/{eid}", summary="Show a webhook endpoint", responses=_READ)
def get_webhook(eid: EndpointIdPath, ledger: LedgerDep, principal: Reader) -> EndpointPublic:
    """One endpoint: url, subscription, whether it is enabled, rotation overlap."""
    return EndpointPublic.of(webhooks.get_endpoint(ledger, principal.tenant_id, eid))


@router.patch(
    "/tenants/{tid}/webhooks/{eid}", summary="Update a webhook endpoint", responses=_WRITE
)
def update_webhook(
    eid: EndpointIdPath, body: EndpointUpdate, ledger: LedgerDep, principal: TenantAdmin
) -> EndpointPublic:
    """Change the fields given and keep the others; ``enabled: false`` pauses deliveries."""
    updated = webhooks.update_endpoint(
        ledger,
        principal.tenant_id,
        eid,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
    )
    return EndpointPublic.of(updated)


@router.delete(
    "/tenants/{tid}/webhooks/{eid}",
    status_code=204,
    summary="Remove a webhook endpoint",
    responses=_WRITE,
)
def delete_webhook(eid: EndpointIdPath, ledger: LedgerDep, principal: TenantAdmin) -> Response:
    """Delete the endpoint with its deliveries and attempts. To pause it instead, PATCH it
    with ``enabled: false``."""
    webhooks.remove_endpoint(ledger, principal.tenant_id, eid)
    return Response(status_code=204)


@router.post(
    "/tenants/{tid}/webhooks/{eid}/rotate-secret",
    summary="Rotate a webhook endpoint's secret",
    responses=_WRITE,
)
def rotate_webhook_secret(
    eid: EndpointIdPath, body: SecretRotation, ledger: LedgerDep, principal: TenantAdmin
) -> EndpointSecretPublic:
    """A new secret, shown this once; requests carry signatures by the old one too for
    ``overlap_seconds`` (default one day), so receivers can switch without a gap."""
    rotated = webhooks.rotate_secret(
        ledger, principal.tenant_id, eid, overlap_seconds=body.overlap_seconds
    )
    return EndpointSecretPublic.with_secret(rotated)


@router.get(
    "/tenants/{tid}/webhooks/{eid}/deliveries",
    summary="List a webhook endpoint's deliveries and their attempts",
    responses=_READ,
)
def list_webhook_deliveries(
    eid: EndpointIdPath,
    ledger: LedgerDep,
    principal: Reader,
    limit: Limit = PAGE_SIZE_DEFAULT,
    cursor: Cursor = None,
) -> DeliveriesPublic:
    """Latest event first; each with its status and every attempt (status code or error,
    latency, the start of the answer)."""
    page = webhooks.list_deliveries(ledger, principal.tenant_id, eid, cursor=cursor, limit=limit)
    return DeliveriesPublic.of(page)


@router.post(
    "/tenants/{tid}/webhooks/{eid}/events/{event_id}/redeliver",
    summary="Redeliver one event to a webhook endpoint",
    responses=_WRITE,
)
def redeliver_webhook_event(
    eid: EndpointIdPath, event_id: EventIdPath, ledger: LedgerDep, principal: TenantAdmin
) -> RedeliveryPublic:
    """Send the event again in a new round of attempts (``scheduled`` 0: it is being sent
    right now)."""
    scheduled = webhooks.redeliver_event(ledger, principal.tenant_id, eid, event_id)
    return RedeliveryPublic(scheduled=scheduled)


@router.post(
    "/tenants/{tid}/webhooks/{eid}/redeliver",
    summary="Redeliver a range of events to a webhook endpoint",
    responses=_WRITE,
)
def redeliver_webhook_range(
    eid: EndpointIdPath, body: RedeliverRange, ledger: LedgerDep, principal: TenantAdmin
) -> RedeliveryPublic:
    """Send again the subscribed events after the feed cursor ``after`` (up to ``until``)
    and/or written in [``since``, ``until_time``); cut at a limit, then ``next_cursor``."""
    report = webhooks.redeliver_range(
        ledger,
        principal.tenant_id,
        eid,
        after=body.after,
        until=body.until,
        since=body.since,
        until_time=body.until_time,
    )
    return RedeliveryPublic(scheduled=report.scheduled, next_cursor=report.next_cursor)
