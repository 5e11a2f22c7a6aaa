"""The points due jobs: activate pending points whose time has come, then expire due lots.

Owns: the batch loops of the ``points`` jobs step (``POINTS_JOBS_BATCH_SIZE`` lots a round).
Protects: safe twice and concurrently; each lot is handled under its holder's lock from its
state read there, and its rows are written under derived ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from rewardledger.domain.errors import PointsNotPending
from rewardledger.domain.limits import POINTS_JOBS_BATCH_SIZE
from rewardledger.domain.points import LotState
from rewardledger.domain.points_requests import AssetHolders
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.lots import expire_due_lots
from rewardledger.services.points.pending import activate
from rewardledger.services.points.port import PointsStore, store_of


def run_due(ledger: Ledger, tenant_id: str) -> dict[str, int]:
    """Activate pending points whose time has come, then expire lots that are due.

    Safe twice and concurrently: each lot is handled under its holder's lock, from its state
    read there, and its rows are written under derived ids.
    """
    store = store_of(ledger)
    activated = expired = 0
    seen: set[str] = set()
    while True:
        due = [
            d
            for d in store.due_lots(
                tenant_id, LotState.PENDING, ledger.clock(), POINTS_JOBS_BATCH_SIZE
            )
            if d[0] not in seen
        ]
        if not due:
            break
        for lot_id, _, _ in due:
            seen.add(lot_id)
            try:
                activate(ledger, tenant_id, lot_id)
                activated += 1
            except PointsNotPending:
                continue  # cancelled or activated by someone else meanwhile
    while True:
        due = store.due_lots(tenant_id, LotState.ACTIVE, ledger.clock(), POINTS_JOBS_BATCH_SIZE)
        if not due:
            break
        by_holder: dict[tuple[str, str], list[str]] = {}
        for lot_id, asset, holder in due:
            by_holder.setdefault((asset, holder), []).append(lot_id)
        done = 0
        for (asset, holder), lot_ids in sorted(by_holder.items()):
            done += _expire_holder(ledger, store, tenant_id, asset, holder, lot_ids)
        expired += done
        if done == 0:
            break
    return {"points_activated": activated, "lots_expired": expired}


def _expire_holder(
    ledger: Ledger,
    store: PointsStore,
    tenant_id: str,
    asset: str,
    holder: str,
    lot_ids: Sequence[str],
) -> int:
    def use_case(work: UnitOfWork) -> int:
        store.lock_holders(work.unit, tenant_id, AssetHolders.one(asset, holder), work.now)
        lots = list(store.get_lots(work.unit, tenant_id, lot_ids).values())
        _, count = expire_due_lots(work, store, asset, lots)
        return count

    return ledger.run(tenant_id, use_case)
