"""Redemptions (issue 4): spend points for an offer, get a code and its QR, confirm it at a till.

Owns: the seed's ``user_redemptions`` life cycle on the core. Creating a redemption spends its
cost (reason ``points``, the row linked by ``redemption_id``) and gives a short code that is
hard to guess. States::

    pending --confirm (merchant, once)--> confirmed
    pending --cancel--> cancelled      (refund posted, reason ``refund``)
    pending --time to live passes, due jobs--> expired   (refund posted)

Every transition runs under the redemption's row lock, decided from the state read there; the
refund is written under ``<redemption>.refund``, so it is posted at most once whatever the races.
The refund gives the points back to the lots they came from; a lot that has expired since
gets nothing back (those points are not revived: ``domain.points.plan_refund``). A new code
is 50 random bits; one that collides with a taken one is refused by the unique index of the
codes, and the unit runs again and draws another (at most ``WRITE_RETRIES_MAX`` times, then
``busy``). ``fresh_code`` draws against a known set of taken codes, for callers that have one.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import segno

from rewardledger.domain import ids
from rewardledger.domain.errors import (
    AlreadyRedeemed,
    Busy,
    InvalidRedemptionState,
    NotFound,
    ValidationError,
)
from rewardledger.domain.limits import (
    OFFER_ID_LENGTH_MAX,
    POINTS_JOBS_BATCH_SIZE,
    REDEMPTION_CODE_ATTEMPTS_MAX,
    REDEMPTION_ID_LENGTH_MAX,
    REDEMPTION_TTL_SECONDS_DEFAULT,
    REDEMPTION_TTL_SECONDS_MAX,
)
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.paging import page_limit, page_of, text_after
from rewardledger.domain.points import (
    CODE_LENGTH,
    REDEMPTION_SPEND_REASON,
    REFUND_REASON,
    Direction,
    RedemptionState,
    make_code,
    normalise_code,
    redemption_refund_id,
    redemption_spend_id,
)
from rewardledger.domain.points_queries import MovementReads, RefundIds
from rewardledger.domain.replay import check_replay
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points import jobs as points_jobs
from rewardledger.services.points.catalogue import (
    check_holder,
    movement_key,
    run_movement,
    start_movement,
)
from rewardledger.services.points.movements import (
    RefundReads,
    give_back_in_unit,
    spend_in_unit,
)
from rewardledger.services.points.port import store_of
from rewardledger.services.points.views import DEFAULT_ASSET, Redemption, RedemptionPage


def _of(row: dict[str, Any], scale: int, *, replayed: bool = False) -> Redemption:
    return Redemption(
        row["redemption_id"],
        row["code"],
        row["holder_id"],
        row["asset_code"],
        row["offer_id"],
        Amount(int(row["cost_minor"]), scale),
        RedemptionState(row["state"]),
        row["created_at"],
        row["expires_at"],
        row["resolved_at"],
        row["resolved_by"],
        Amount(int(row["refunded_minor"]), scale),
        Amount(int(row["forfeited_minor"]), scale),
        replayed,
    )


def _redemption_id(value: object) -> str:
    redemption_id = ids.transfer_id(value, "reference")
    if len(redemption_id) > REDEMPTION_ID_LENGTH_MAX:
        raise ValidationError(
            f"reference must be at most {REDEMPTION_ID_LENGTH_MAX} characters.", field="reference"
        )
    return redemption_id


def create(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    *,
    offer_id: str,
    cost: str,
    reference: str,
    asset: str = DEFAULT_ASSET,
    ttl_seconds: int = REDEMPTION_TTL_SECONDS_DEFAULT,
) -> Redemption:
    """Spend ``cost`` points of ``holder`` for ``offer_id`` and issue a code.

    ``reference`` is the idempotency key and becomes the redemption's id (the seed's
    ``redemption_id``): sending it again returns the first redemption.
    """
    holder = check_holder(holder)
    redemption_id = _redemption_id(reference)
    _check_offer(offer_id, ttl_seconds)
    scale = ledger.get_asset(tenant_id, asset).scale
    cost_minor = parse_positive(cost, scale, field="cost")
    key = movement_key(asset, Direction.SPEND, REDEMPTION_SPEND_REASON, holder)
    store = store_of(ledger)
    spend_id = redemption_spend_id(redemption_id)
    reads = MovementReads(key, spend_id)

    def use_case(work: UnitOfWork, opened: bool) -> Redemption:
        start = start_movement(ledger, work, reads, opened=opened)
        # The redemption and its spend are written by one unit: no spend, no redemption.
        existing = (
            store.get_redemption(work.unit, tenant_id, redemption_id) if start.replayed else None
        )
        if existing is not None:
            check_replay(redemption_id, **_same(existing, holder, offer_id, cost_minor, asset))
            return _of(existing, scale, replayed=True)
        spend_in_unit(
            work,
            store,
            transfer_id=spend_id,
            asset=asset,
            holder=holder,
            amount_minor=cost_minor,
            reason=start.reason,
            metadata={"redemption_id": redemption_id, "offer_id": offer_id},
            lots=start.lots,
        )
        row = _new_row(tenant_id, redemption_id, asset, holder, offer_id, cost_minor)
        row["created_at"] = work.now
        row["expires_at"] = work.now + timedelta(seconds=ttl_seconds)
        store.insert_redemption(work.unit, row)
        work.event("redemption.created", redemption_id, {"holder": holder, "offer_id": offer_id})
        return _of(row, scale)

    return run_movement(ledger, tenant_id, key, use_case)


def _same(
    existing: dict[str, Any], holder: str, offer_id: str, cost_minor: int, asset: str
) -> dict[str, bool]:
    """Which of a replayed create's fields match the redemption stored under its reference."""
    return {
        "holder": existing["holder_id"] == holder,
        "offer_id": existing["offer_id"] == offer_id,
        "cost": int(existing["cost_minor"]) == cost_minor,
        "asset": existing["asset_code"] == asset,
    }


def _new_row(
    tenant_id: str, redemption_id: str, asset: str, holder: str, offer_id: str, cost_minor: int
) -> dict[str, Any]:
    """A new pending redemption's row, with a fresh code (its instants set by the caller).

    A code another redemption holds already is caught by the unique index when the unit
    commits; the unit then runs again, whole, and draws another (``ledger.unit``)."""
    return {
        "tenant_id": tenant_id,
        "redemption_id": redemption_id,
        "code": fresh_code(lambda _code: False),
        "asset_code": asset,
        "holder_id": holder,
        "offer_id": offer_id,
        "cost_minor": cost_minor,
        "state": RedemptionState.PENDING.value,
        "created_at": None,
        "expires_at": None,
        "resolved_at": None,
        "resolved_by": None,
        "refunded_minor": 0,
        "forfeited_minor": 0,
    }


def _check_offer(offer_id: object, ttl_seconds: object) -> None:
    if not isinstance(offer_id, str) or not 1 <= len(offer_id) <= OFFER_ID_LENGTH_MAX:
        raise ValidationError(
            f"offer_id must be 1 to {OFFER_ID_LENGTH_MAX} characters.", field="offer_id"
        )
    if (
        not isinstance(ttl_seconds, int)
        or isinstance(ttl_seconds, bool)
        or not 1 <= ttl_seconds <= REDEMPTION_TTL_SECONDS_MAX
    ):
        raise ValidationError(
            f"ttl_seconds must be from 1 to {REDEMPTION_TTL_SECONDS_MAX}.", field="ttl_seconds"
        )


def fresh_code(taken: Callable[[str], bool]) -> str:
    """A new redemption code no live redemption of the tenant has (``taken`` says which are).

    A code is 50 random bits, so a collision is rare but possible: it is drawn again, at most
    REDEMPTION_CODE_ATTEMPTS_MAX times, then ``busy``. (A twin drawn concurrently by another
    transaction is caught by the unique index, and the whole unit runs again.)
    """
    for _ in range(REDEMPTION_CODE_ATTEMPTS_MAX):
        code = make_code(secrets.token_bytes(CODE_LENGTH))
        if not taken(code):
            return code
    raise Busy(REDEMPTION_CODE_ATTEMPTS_MAX)


def get(ledger: Ledger, tenant_id: str, redemption_id: str) -> Redemption:
    ledger.get_tenant(tenant_id)
    row = store_of(ledger).get_redemption(None, tenant_id, _redemption_id(redemption_id))
    if row is None:
        raise NotFound("redemption", redemption_id)
    return _of(row, ledger.get_asset(tenant_id, row["asset_code"]).scale)


def get_by_code(ledger: Ledger, tenant_id: str, code: str) -> Redemption:
    """The redemption of a code as typed at a till (any case, with or without separators)."""
    wanted = normalise_code(code)
    ledger.get_tenant(tenant_id)
    row = store_of(ledger).get_redemption_by_code(None, tenant_id, wanted)
    if row is None:
        raise NotFound("redemption code", wanted)
    return _of(row, ledger.get_asset(tenant_id, row["asset_code"]).scale)


def list_page(
    ledger: Ledger,
    tenant_id: str,
    *,
    state: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> RedemptionPage:
    """The tenant's redemptions by id (only those in ``state``, if given), a page at a time."""
    if state is not None and state not in {s.value for s in RedemptionState}:
        states = ", ".join(s.value for s in RedemptionState)
        raise ValidationError(f"state must be one of {states}.", field="state")
    size = page_limit(limit)
    after = text_after(cursor)
    ledger.get_tenant(tenant_id)
    rows = store_of(ledger).list_redemptions(tenant_id, state, after, size + 1)
    kept, next_cursor = page_of(rows, size, lambda row: (row["redemption_id"],))
    assets = ledger.assets(tenant_id)
    return RedemptionPage([_of(row, assets[row["asset_code"]].scale) for row in kept], next_cursor)


def confirm(ledger: Ledger, tenant_id: str, code: str, *, actor: str) -> Redemption:
    """Validate a code at a till: pending -> confirmed, once (``already_redeemed`` after)."""
    wanted = normalise_code(code)
    ledger.get_tenant(tenant_id)
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> Redemption:
        row = store.get_redemption_by_code(work.unit, tenant_id, wanted)
        if row is None:
            raise NotFound("redemption code", wanted)
        scale = work.assets[row["asset_code"]].scale
        state = RedemptionState(row["state"])
        if state is RedemptionState.CONFIRMED:
            raise AlreadyRedeemed(
                f"The code {wanted} was already redeemed at {row['resolved_at'].isoformat()}.",
                redemption_id=row["redemption_id"],
                resolved_at=row["resolved_at"].isoformat(),
            )
        if state is RedemptionState.PENDING and row["expires_at"] <= work.now:
            state = RedemptionState.EXPIRED  # due, not yet run by the jobs: refuse all the same
        if state is not RedemptionState.PENDING:
            raise InvalidRedemptionState(
                f"The redemption {row['redemption_id']!r} is {state.value}; only a pending one "
                "can be confirmed.",
                redemption_id=row["redemption_id"],
                state=state.value,
            )
        values = {
            "state": RedemptionState.CONFIRMED.value,
            "resolved_at": work.now,
            "resolved_by": actor,
        }
        store.update_redemption(work.unit, tenant_id, row["redemption_id"], values)
        work.event("redemption.confirmed", row["redemption_id"], {"by": actor})
        return _of({**row, **values}, scale)

    return ledger.run(tenant_id, use_case)


def cancel(ledger: Ledger, tenant_id: str, redemption_id: str, *, actor: str) -> Redemption:
    """pending -> cancelled, refunding the points to their lots; cancelling again returns the
    cancelled redemption unchanged."""
    return _end(ledger, tenant_id, _redemption_id(redemption_id), RedemptionState.CANCELLED, actor)


def _end(
    ledger: Ledger, tenant_id: str, redemption_id: str, target: RedemptionState, actor: str
) -> Redemption:
    ledger.get_tenant(tenant_id)
    store = store_of(ledger)

    spend_id = redemption_spend_id(redemption_id)
    refund_id = redemption_refund_id(redemption_id)
    refund_ids = RefundIds(redemption_id, spend_id, refund_id)

    def use_case(work: UnitOfWork) -> Redemption:
        row, refund_written, lots, moves, taken = store.refund_context(
            work.unit, tenant_id, refund_ids
        )
        if row is None:
            raise NotFound("redemption", redemption_id)
        scale = work.assets[row["asset_code"]].scale
        state = RedemptionState(row["state"])
        if state is target:
            return _of(row, scale, replayed=True)
        if state is not RedemptionState.PENDING or (
            target is RedemptionState.EXPIRED and row["expires_at"] > work.now
        ):
            raise InvalidRedemptionState(
                f"The redemption {redemption_id!r} is {state.value}; only a pending one can be "
                f"{target.value}.",
                redemption_id=redemption_id,
                state=state.value,
            )
        refunded, forfeited = give_back_in_unit(
            work,
            store,
            spend_id=spend_id,
            refund_id=refund_id,
            asset=row["asset_code"],
            holder=row["holder_id"],
            metadata={"redemption_id": redemption_id},
            reason_code=REFUND_REASON,
            read=RefundReads(refund_written, lots, moves, taken),
        )
        values = {
            "state": target.value,
            "resolved_at": work.now,
            "resolved_by": actor,
            "refunded_minor": refunded,
            "forfeited_minor": forfeited,
        }
        store.update_redemption(work.unit, tenant_id, redemption_id, values)
        refunded_text = str(Amount(refunded, scale))
        work.event(f"redemption.{target.value}", redemption_id, {"refunded": refunded_text})
        return _of({**row, **values}, scale)

    return ledger.run(tenant_id, use_case)


def expire_due(ledger: Ledger, tenant_id: str) -> int:
    """Expire pending redemptions past their time to live, refunding each once."""
    store = store_of(ledger)
    expired = 0
    seen: set[str] = set()
    while True:
        due = [
            r
            for r in store.due_redemptions(tenant_id, ledger.clock(), POINTS_JOBS_BATCH_SIZE)
            if r not in seen
        ]
        if not due:
            return expired
        for redemption_id in due:
            seen.add(redemption_id)
            try:
                result = _end(ledger, tenant_id, redemption_id, RedemptionState.EXPIRED, "jobs")
            except InvalidRedemptionState:
                continue  # confirmed or cancelled meanwhile
            if not result.replayed:
                expired += 1


def run_due(ledger: Ledger, tenant_id: str) -> dict[str, int]:
    """The due-jobs step ``points``: pending points, lot expiry, redemption expiry."""
    counts = points_jobs.run_due(ledger, tenant_id)
    counts["redemptions_expired"] = expire_due(ledger, tenant_id)
    return counts


def qr_png(code: str, *, scale: int = 8) -> bytes:
    """The code as a standard QR image (PNG), made by ``segno``.

    ``segno.make`` would pick a Micro QR for a code this short, which most phone cameras and
    ``zbarimg`` cannot read; ``make_qr`` always makes a standard QR code."""
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(code: str, *, scale: int = 8) -> bytes:
    """The code as a standard QR image (SVG); see ``qr_png``."""
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="svg", scale=scale, border=4)
    return buffer.getvalue()
