"""Earn and spend: the movements of points, and the in-unit spend and refund that
redemptions share.

Owns: ``earn`` (a new lot), ``spend`` (taken from lots soonest-expiry first), their replays,
and ``give_back_in_unit`` (a spend's points returned to the lots they came from). Protects: a
spend never takes a balance below zero unless its reason allows it (checked under the
holder's lock and flagged ``negative_allowed``); a refund is written once, under its id, and
never revives points of a lot expired since (``domain.points.plan_refund``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rewardledger.domain import ids
from rewardledger.domain.errors import InsufficientPoints
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.points import (
    KIND_EARN,
    KIND_REFUND,
    KIND_SPEND,
    AccumType,
    Direction,
    Lot,
    LotState,
    Reason,
    SpendPlan,
    deficit_lot_id,
    holder_account_id,
    issuance_account_id,
    lot_policy,
    plan_refund,
    plan_spend,
)
from rewardledger.domain.points_queries import MovementReads
from rewardledger.domain.points_requests import AssetHolders
from rewardledger.domain.replay import check_replay
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.catalogue import (
    check_holder,
    movement_key,
    run_movement,
    start_movement,
)
from rewardledger.services.points.lots import (
    activate_lot,
    expire_due_lots,
    movement_of_lot,
    moves_as_taken,
)
from rewardledger.services.points.port import PointsStore, store_of
from rewardledger.services.points.views import DEFAULT_ASSET, PointsMovement


def spend_in_unit(
    work: UnitOfWork,
    store: PointsStore,
    *,
    transfer_id: str,
    asset: str,
    holder: str,
    amount_minor: int,
    reason: Reason,
    metadata: Mapping[str, Any],
    effective_at: datetime | None = None,
    lots: Sequence[Lot] | None = None,
) -> PointsMovement:
    """Take ``amount_minor`` from the holder's lots and post the spend row (holder locked).

    ``lots``: the holder's open lots, when the caller has locked the holder and read them
    (``catalogue.start_movement``); else they are locked and read here."""
    scale = work.assets[asset].scale
    if lots is None:
        store.lock_holders(work.unit, work.tenant_id, AssetHolders.one(asset, holder), work.now)
        lots = store.open_lots(work.unit, work.tenant_id, asset, [holder])
    lots, _ = expire_due_lots(work, store, asset, lots)
    plan = plan_spend(
        lots,
        amount_minor,
        work.now,
        movement_id=transfer_id,
        holder_id=holder,
        asset_code=asset,
        reason=reason.code,
    )
    if plan.shortfall_minor and not reason.allow_negative:
        raise _insufficient(holder, asset, plan, amount_minor, scale)
    negative = bool(plan.shortfall_minor)
    row_metadata = {**metadata, **({"negative_allowed": True} if negative else {})}
    request = TransferRequest(
        id=transfer_id,
        debit_account_id=holder_account_id(asset, holder),
        credit_account_id=issuance_account_id(asset),
        asset=asset,
        amount=str(Amount(amount_minor, scale)),
        kind=KIND_SPEND,
        reason=reason.code,
        effective_at=effective_at,
        metadata=row_metadata,
    )
    raise_for_single(work.submit([request])[0])
    if plan.opened is not None:
        store.insert_lots(work.unit, work.tenant_id, [plan.opened])
    store.update_lots(work.unit, work.tenant_id, plan.changed)
    store.insert_moves(work.unit, work.tenant_id, plan.moves, work.now)
    return PointsMovement(
        transfer_id,
        holder,
        asset,
        AccumType.SPEND.value,
        reason.code,
        Amount(-amount_minor, scale),
        False,
        negative,
        [(lot_id, Amount(taken, scale)) for lot_id, taken in moves_as_taken(plan.moves)],
        False,
    )


def _insufficient(
    holder: str, asset: str, plan: SpendPlan, amount_minor: int, scale: int
) -> InsufficientPoints:
    available = Amount(plan.available_minor, scale)
    return InsufficientPoints(
        f"{holder} has {available} spendable {asset}; the spend needs "
        f"{Amount(amount_minor, scale)}. Nothing was written.",
        holder=holder,
        available=str(available),
        amount=str(Amount(amount_minor, scale)),
    )


@dataclass(frozen=True)
class RefundReads:
    """What a refund is decided from, read with the holder locked (``store.refund_context``)."""

    refunded: bool
    lots: list[Lot]
    spend_moves: list[tuple[str, int]]
    spend_lots: dict[str, Lot]


def give_back_in_unit(
    work: UnitOfWork,
    store: PointsStore,
    *,
    spend_id: str,
    refund_id: str,
    asset: str,
    holder: str,
    metadata: Mapping[str, Any],
    reason_code: str,
    read: RefundReads | None = None,
) -> tuple[int, int]:
    """Give a spend's points back to the lots it took them from, under ``refund_id`` (once).

    Points of a lot that has expired since are not revived: they are not credited (the
    forfeited amount is returned), so the balance stays equal to the sum of the lots.
    Returns (refunded, forfeited) in minor units. ``read``: what the caller read with the
    holder locked already; else the holder is locked and that is read here.
    """
    if read is None:
        read = _refund_reads(work, store, asset, holder, spend_id, refund_id)
    if read.refunded:
        back = sum(a for _, a in store.moves_of(work.unit, work.tenant_id, refund_id))
        taken = -sum(a for _, a in read.spend_moves)
        return back, taken - back
    # Lots due to expire are expired first, so that what is given back is only live lots.
    now_lots, _ = expire_due_lots(work, store, asset, read.lots)
    current = dict(read.spend_lots)
    current.update((lot.lot_id, lot) for lot in now_lots if lot.lot_id in current)
    taken_from = [(lot_id, -a) for lot_id, a in read.spend_moves]
    plan = plan_refund(taken_from, current, work.now, movement_id=refund_id)
    if plan.refunded_minor:
        request = TransferRequest(
            id=refund_id,
            debit_account_id=issuance_account_id(asset),
            credit_account_id=holder_account_id(asset, holder),
            asset=asset,
            amount=str(Amount(plan.refunded_minor, work.assets[asset].scale)),
            kind=KIND_REFUND,
            reason=reason_code,
            metadata={**metadata, "refund_of": spend_id},
        )
        raise_for_single(work.submit([request])[0])
        store.update_lots(work.unit, work.tenant_id, plan.changed)
        store.insert_moves(work.unit, work.tenant_id, plan.moves, work.now)
    return plan.refunded_minor, plan.forfeited_minor


def _refund_reads(
    work: UnitOfWork,
    store: PointsStore,
    asset: str,
    holder: str,
    spend_id: str,
    refund_id: str,
) -> RefundReads:
    store.lock_holders(work.unit, work.tenant_id, AssetHolders.one(asset, holder), work.now)
    refunded = bool(store.existing_transfer_ids(work.unit, work.tenant_id, [refund_id]))
    lots = store.open_lots(work.unit, work.tenant_id, asset, [holder])
    moves = store.moves_of(work.unit, work.tenant_id, spend_id)
    taken = store.get_lots(work.unit, work.tenant_id, [lot_id for lot_id, _ in moves])
    return RefundReads(refunded, lots, moves, taken)


def earn(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    amount: str,
    *,
    dtype: str,
    reference: str,
    asset: str = DEFAULT_ASSET,
    metadata: Mapping[str, Any] | None = None,
) -> PointsMovement:
    """Credit ``amount`` points to ``holder`` as a new lot; ``reference`` is the idempotency key
    (and the lot's id). A reason with pending settings makes the points pending."""
    holder = check_holder(holder)
    lot_id = ids.transfer_id(reference, "reference")
    scale = ledger.get_asset(tenant_id, asset).scale
    amount_minor = parse_positive(amount, scale)
    key = movement_key(asset, Direction.EARN, dtype, holder)
    store = store_of(ledger)
    deficit_id = deficit_lot_id(asset, holder)
    reads = MovementReads(key, lot_id, lot_ids=(lot_id, deficit_id))

    def use_case(work: UnitOfWork, opened: bool) -> PointsMovement:
        start = start_movement(ledger, work, reads, opened=opened)
        policy, reason = start.policy, start.reason
        pending = reason.makes_pending
        existing = next((lot for lot in start.lots if lot.lot_id == lot_id), None)
        request = TransferRequest(
            id=lot_id,
            debit_account_id=issuance_account_id(asset),
            credit_account_id=holder_account_id(asset, holder),
            asset=asset,
            amount=str(Amount(amount_minor, scale)),
            kind=KIND_EARN,
            reason=reason.code,
            pending=pending,
            metadata=dict(metadata or {}),
        )
        result = work.submit([request])[0]
        raise_for_single(result)
        if existing is not None:
            return movement_of_lot(existing, scale, replayed=True)
        lot = _new_lot(lot_id, holder, asset, reason, amount_minor, work.now)
        store.insert_lots(work.unit, tenant_id, [lot])
        if not pending:
            deficit = [lot for lot in start.lots if lot.lot_id == deficit_id]
            activate_lot(work, store, lot, deficit, lot_policy(reason, policy))
        work.event("points.earned", lot_id, {"holder": holder, "amount": str(request.amount)})
        return movement_of_lot(lot, scale, replayed=False)

    return run_movement(ledger, tenant_id, key, use_case)


def _new_lot(
    lot_id: str, holder: str, asset: str, reason: Reason, amount_minor: int, now: datetime
) -> Lot:
    """An earn's lot as it is written: pending if its reason says so, else active."""
    return Lot(
        lot_id,
        holder,
        asset,
        reason.code,
        amount_minor,
        amount_minor,
        LotState.PENDING if reason.makes_pending else LotState.ACTIVE,
        now,
        None,
        None,
        now + timedelta(seconds=reason.pending_seconds)
        if reason.pending_seconds is not None
        else None,
    )


def spend(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    amount: str,
    *,
    dtype: str,
    reference: str,
    asset: str = DEFAULT_ASSET,
    metadata: Mapping[str, Any] | None = None,
) -> PointsMovement:
    """Debit ``amount`` points from ``holder``, taking from its lots soonest-expiry first.

    ``insufficient_points`` (nothing written) if the spendable points do not cover it, unless
    the reason allows a negative balance.
    """
    holder = check_holder(holder)
    transfer_id = ids.transfer_id(reference, "reference")
    scale = ledger.get_asset(tenant_id, asset).scale
    amount_minor = parse_positive(amount, scale)
    key = movement_key(asset, Direction.SPEND, dtype, holder)
    store = store_of(ledger)
    reads = MovementReads(key, transfer_id)

    def use_case(work: UnitOfWork, opened: bool) -> PointsMovement:
        start = start_movement(ledger, work, reads, opened=opened)
        reason = start.reason
        if start.replayed:
            return replayed_spend(
                ledger, work, store, transfer_id, holder, asset, amount_minor, reason
            )
        movement = spend_in_unit(
            work,
            store,
            transfer_id=transfer_id,
            asset=asset,
            holder=holder,
            amount_minor=amount_minor,
            reason=reason,
            metadata=dict(metadata or {}),
            lots=start.lots,
        )
        amount = str(Amount(amount_minor, work.assets[asset].scale))
        work.event("points.spent", transfer_id, {"holder": holder, "amount": amount})
        return movement

    return run_movement(ledger, tenant_id, key, use_case)


def replayed_spend(
    ledger: Ledger,
    work: UnitOfWork,
    store: PointsStore,
    transfer_id: str,
    holder: str,
    asset: str,
    amount_minor: int,
    reason: Reason,
    redemption_id: str | None = None,
) -> PointsMovement:
    """The first result of a spend whose reference is in the journal already, or
    ``idempotency_conflict`` if that reference was used for another movement."""
    stored = ledger.get_transfer(work.tenant_id, transfer_id)
    check_replay(
        transfer_id,
        holder=stored.debit_account_id == holder_account_id(asset, holder),
        amount=stored.amount_minor == amount_minor,
        dtype=stored.reason == reason.code and stored.kind == KIND_SPEND,
        redemption_id=stored.metadata.get("redemption_id") == redemption_id,
    )
    scale = work.assets[asset].scale
    moves = store.moves_of(work.unit, work.tenant_id, transfer_id)
    return PointsMovement(
        transfer_id,
        holder,
        asset,
        AccumType.SPEND.value,
        reason.code,
        Amount(-amount_minor, scale),
        False,
        bool(stored.metadata.get("negative_allowed")),
        [(lot_id, Amount(-a, scale)) for lot_id, a in moves],
        True,
    )
