"""Pending points: activate (post the pending earn, start the lot's expiry clock) or cancel
(void it: never credited).

Owns: the pending -> active | cancelled transitions of an earn lot. Protects: each is decided
under the holder's lock from the lot's state read there, so it happens once; a second call
returns the first result.
"""

from __future__ import annotations

from dataclasses import replace

from rewardledger.domain import ids
from rewardledger.domain.errors import NotFound, PointsNotPending
from rewardledger.domain.points import Direction, LotState, lot_policy
from rewardledger.domain.points_requests import AssetHolders
from rewardledger.domain.transfers import Operation, Phase, PostPending, VoidPending, derived_id
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.catalogue import asset_policy
from rewardledger.services.points.lots import activate_lot, deficit_of, movement_of_lot
from rewardledger.services.points.port import store_of
from rewardledger.services.points.views import PointsMovement


def activate(
    ledger: Ledger, tenant_id: str, reference: str, *, holder: str | None = None
) -> PointsMovement:
    """Make pending points spendable now (post the pending earn); their expiry clock starts.

    ``holder``, if given, must be the holder the points were earned for (else ``not_found``).
    """
    return _resolve_pending(ledger, tenant_id, reference, holder, activate=True)


def cancel_pending(
    ledger: Ledger, tenant_id: str, reference: str, *, holder: str | None = None
) -> PointsMovement:
    """Cancel pending points (void the pending earn): they are never credited."""
    return _resolve_pending(ledger, tenant_id, reference, holder, activate=False)


def _resolve_pending(
    ledger: Ledger, tenant_id: str, reference: str, holder_id: str | None, *, activate: bool
) -> PointsMovement:
    lot_id = ids.transfer_id(reference, "reference")
    ledger.get_tenant(tenant_id)
    store = store_of(ledger)
    found = store.get_lot(None, tenant_id, lot_id)
    if found is None or found.deficit or holder_id not in (None, found.holder_id):
        raise NotFound("earned points", lot_id)
    asset, holder = found.asset_code, found.holder_id
    policy = asset_policy(ledger, tenant_id, asset)
    reason = store.reasons(tenant_id).get((Direction.EARN.value, found.reason))
    policy_of_lot = policy if reason is None else lot_policy(reason, policy)
    wanted = LotState.ACTIVE if activate else LotState.CANCELLED

    def use_case(work: UnitOfWork) -> PointsMovement:
        store.lock_holders(work.unit, tenant_id, AssetHolders.one(asset, holder), work.now)
        lot = store.get_lot(work.unit, tenant_id, lot_id)
        assert lot is not None
        scale = work.assets[asset].scale
        # Only a lot that was pending is activated or cancelled again as a replay (an earn
        # that was never pending is active too, but was never activated).
        if lot.state is wanted and (
            not activate
            or store.existing_transfer_ids(work.unit, tenant_id, [derived_id(lot_id, Phase.POST)])
        ):
            return movement_of_lot(lot, scale, replayed=True)
        if lot.state is not LotState.PENDING:
            raise PointsNotPending(
                f"The points earned under {lot_id!r} are {lot.state.value}, not pending; "
                f"they cannot be {'activated' if activate else 'cancelled'}.",
                reference=lot_id,
                state=lot.state.value,
            )
        op: Operation = PostPending(lot_id) if activate else VoidPending(lot_id)
        raise_for_single(work.submit([op])[0])
        if activate:
            activate_lot(work, store, lot, deficit_of(work, store, asset, holder), policy_of_lot)
        else:
            store.update_lots(
                work.unit, tenant_id, [replace(lot, state=LotState.CANCELLED, remaining_minor=0)]
            )
        work.event(
            "points.activated" if activate else "points.cancelled", lot_id, {"holder": holder}
        )
        return replace(movement_of_lot(lot, scale, replayed=False), pending=False)

    return ledger.run(tenant_id, use_case)
