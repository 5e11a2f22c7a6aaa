"""Steps on a holder's lots inside a use case's unit (the holder is locked): expiry,
activation and the movement a lot stands for.

Owns: the in-unit steps shared by earn, pending points, spends, redemptions and the due jobs.
Protects: an expiry row is written once per lot (under ``<lot>.expire``), and a lot that
becomes spendable first pays back its holder's deficit, so balance == sum of the lots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from rewardledger.domain.money import Amount
from rewardledger.domain.points import (
    EXPIRY_REASON,
    KIND_EXPIRE,
    AccumType,
    ExpiryPolicy,
    Lot,
    LotState,
    Move,
    cover_deficit,
    deficit_lot_id,
    expire_id,
    holder_account_id,
    is_expired,
    issuance_account_id,
)
from rewardledger.domain.transfers import Operation, TransferRequest
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.port import PointsStore
from rewardledger.services.points.views import PointsMovement


def expire_due_lots(
    work: UnitOfWork, store: PointsStore, asset: str, lots: Sequence[Lot]
) -> tuple[list[Lot], int]:
    """Expire the given lots that are due (the holder is locked): one ``expire`` row per lot
    under ``<lot>.expire``. Returns the lots as they are now and how many were expired."""
    due = [lot for lot in lots if is_expired(lot, work.now)]
    if not due:
        return list(lots), 0
    ops: list[Operation] = [
        TransferRequest(
            id=expire_id(lot.lot_id),
            debit_account_id=holder_account_id(asset, lot.holder_id),
            credit_account_id=issuance_account_id(asset),
            asset=asset,
            amount=str(Amount(lot.remaining_minor, work.assets[asset].scale)),
            kind=KIND_EXPIRE,
            reason=EXPIRY_REASON,
            metadata={"lot_id": lot.lot_id},
        )
        for lot in due
    ]
    for result in work.submit(ops):
        raise_for_single(result)
    expired = {lot.lot_id: replace(lot, remaining_minor=0, state=LotState.EXPIRED) for lot in due}
    store.update_lots(work.unit, work.tenant_id, list(expired.values()))
    store.insert_moves(
        work.unit,
        work.tenant_id,
        [(expire_id(lot.lot_id), lot.lot_id, -lot.remaining_minor) for lot in due],
        work.now,
    )
    scale = work.assets[asset].scale
    for lot in due:
        payload = {"holder": lot.holder_id, "amount": str(Amount(lot.remaining_minor, scale))}
        work.event("points.expired", lot.lot_id, payload)
    return [expired.get(lot.lot_id, lot) for lot in lots], len(due)


def activate_lot(
    work: UnitOfWork, store: PointsStore, lot: Lot, lots: Sequence[Lot], policy: ExpiryPolicy
) -> None:
    """Make an (already posted) lot spendable: start its expiry clock, pay the deficit."""
    active = replace(
        lot, state=LotState.ACTIVE, activated_at=work.now, expires_at=policy.expires_at(work.now)
    )
    active, deficit, moves = cover_deficit(lots, active)
    store.update_lots(work.unit, work.tenant_id, [active, *([] if deficit is None else [deficit])])
    if moves:
        store.insert_moves(work.unit, work.tenant_id, moves, work.now)


def deficit_of(work: UnitOfWork, store: PointsStore, asset: str, holder: str) -> list[Lot]:
    """The holder's deficit lot, if it has one (read by key: cheaper than all its lots)."""
    deficit = store.get_lot(work.unit, work.tenant_id, deficit_lot_id(asset, holder))
    return [] if deficit is None else [deficit]


def movement_of_lot(lot: Lot, scale: int, *, replayed: bool) -> PointsMovement:
    """The earn a lot stands for, as ``earn`` returned it."""
    return PointsMovement(
        lot.lot_id,
        lot.holder_id,
        lot.asset_code,
        AccumType.EARN.value,
        lot.reason,
        Amount(lot.amount_minor, scale),
        lot.state is LotState.PENDING,
        False,
        [(lot.lot_id, Amount(lot.amount_minor, scale))],
        replayed,
    )


def moves_as_taken(moves: Iterable[Move]) -> list[tuple[str, int]]:
    return [(lot_id, -amount) for _, lot_id, amount in moves]
