"""Redemptions: create (spends the cost), read, QR images, confirm at a till, cancel (issue 4).

Confirming needs the ``redeem`` capability (a merchant key, or admin); reading one redemption
needs ``read_redemptions``, which a merchant has beside every reading role, so that the till
can look up what it confirms. The rest read or write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Response

from rewardledger.domain.limits import PAGE_SIZE_MAX, REDEMPTION_ID_LENGTH_MAX
from rewardledger.http.deps import LedgerDep, Reader, Redeemer, RedemptionReader, Writer
from rewardledger.http.fields import OPAQUE_CURSOR_PATTERN, id_path
from rewardledger.http.idempotency import IdempotencyKeyHeader, key_of, mark_replay
from rewardledger.http.problems import documented, tenant_route_problems
from rewardledger.http.schemas import TRANSFER_ID_PATH_PATTERN
from rewardledger.http.schemas_points import (
    CODE_TYPED_PATTERN,
    ConfirmCreate,
    RedemptionCreate,
    RedemptionPagePublic,
    RedemptionPublic,
)
from rewardledger.services import redemptions

router = APIRouter(tags=["redemptions"])

RedemptionIdPath = Annotated[
    str,
    id_path(
        TRANSFER_ID_PATH_PATTERN,
        REDEMPTION_ID_LENGTH_MAX,
        "The redemption's id (the reference it was created with).",
        alias="id",
    ),
]
CodePath = Annotated[
    str,
    id_path(
        CODE_TYPED_PATTERN, 40, "The code as typed at a till (any case; spaces and dashes ignored)."
    ),
]
_READ = tenant_route_problems()
_TRANSITION = _READ | documented("invalid_redemption_state", "busy")


@router.post(
    "/tenants/{tid}/redemptions",
    status_code=201,
    responses=_READ | documented("insufficient_points", "idempotency_conflict", "busy"),
)
def create_redemption(
    body: RedemptionCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RedemptionPublic:
    """Spend ``cost`` points of ``user_id`` for an offer and issue a code (pending)."""
    made = redemptions.create(
        ledger,
        principal.tenant_id,
        body.user_id,
        offer_id=body.offer_id,
        cost=body.cost,
        reference=key_of(
            idempotency_key, {"idempotency_key": body.idempotency_key, "reference": body.reference}
        ),
        asset=body.asset,
        ttl_seconds=body.ttl_seconds,
    )
    mark_replay(response, made.replayed)
    return RedemptionPublic.of(made)


@router.post(
    "/tenants/{tid}/redemptions/confirm",
    responses=_TRANSITION | documented("already_redeemed"),
)
def confirm_redemption(
    body: ConfirmCreate, ledger: LedgerDep, principal: Redeemer
) -> RedemptionPublic:
    """Validate a code at a till: once; a second try is ``already_redeemed``."""
    return RedemptionPublic.of(
        redemptions.confirm(ledger, principal.tenant_id, body.code, actor=f"key:{principal.key_id}")
    )


@router.get("/tenants/{tid}/redemptions/{id}", responses=_READ)
def get_redemption(
    redemption_id: RedemptionIdPath, ledger: LedgerDep, principal: RedemptionReader
) -> RedemptionPublic:
    """One redemption: its code, offer, cost and state (a merchant key may read it too)."""
    return RedemptionPublic.of(redemptions.get(ledger, principal.tenant_id, redemption_id))


@router.get("/tenants/{tid}/redemptions", responses=_READ)
def list_redemptions(
    ledger: LedgerDep,
    principal: RedemptionReader,
    state: Annotated[
        str | None,
        Query(pattern="^(pending|confirmed|cancelled|expired)$", description="Only these."),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=PAGE_SIZE_MAX)] = None,
    cursor: Annotated[str | None, Query(pattern=OPAQUE_CURSOR_PATTERN)] = None,
) -> RedemptionPagePublic:
    """The tenant's redemptions by id, e.g. ``?state=pending``: what a till may confirm."""
    page = redemptions.list_page(
        ledger, principal.tenant_id, state=state, cursor=cursor, limit=limit
    )
    return RedemptionPagePublic(
        redemptions=[RedemptionPublic.of(found) for found in page.redemptions],
        next_cursor=page.next_cursor,
    )


@router.get("/tenants/{tid}/redemptions/by-code/{code}", responses=_READ)
def get_redemption_by_code(
    code: CodePath, ledger: LedgerDep, principal: RedemptionReader
) -> RedemptionPublic:
    """The redemption of a code, as a till looks it up before confirming it (merchant too)."""
    return RedemptionPublic.of(redemptions.get_by_code(ledger, principal.tenant_id, code))


def _add_qr_route(
    image: str, media_type: str, render: Callable[[str], bytes], description: str
) -> None:
    """Register ``GET .../redemptions/{id}/qr.<image>``: the redemption's code as a QR image."""

    def endpoint(redemption_id: RedemptionIdPath, ledger: LedgerDep, principal: Reader) -> Response:
        found = redemptions.get(ledger, principal.tenant_id, redemption_id)
        return Response(render(found.code), media_type=media_type)

    router.add_api_route(
        f"/tenants/{{tid}}/redemptions/{{id}}/qr.{image}",
        endpoint,
        methods=["GET"],
        name=f"redemption_qr_{image}",
        description=description,
        responses=_READ | {200: {"content": {media_type: {}}}},
        response_class=Response,
    )


_add_qr_route("png", "image/png", redemptions.qr_png, "The redemption's code as a PNG QR image.")
_add_qr_route(
    "svg", "image/svg+xml", redemptions.qr_svg, "The redemption's code as an SVG QR image."
)


@router.post("/tenants/{tid}/redemptions/{id}/cancel", responses=_TRANSITION)
def cancel_redemption(
    redemption_id: RedemptionIdPath, ledger: LedgerDep, principal: Writer
) -> RedemptionPublic:
    """Cancel a pending redemption; its points go back to their lots (once)."""
    return RedemptionPublic.of(
        redemptions.cancel(
            ledger, principal.tenant_id, redemption_id, actor=f"key:{principal.key_id}"
        )
    )
