"""The points catalogue: points assets with their expiry policy, reason codes, holders.

Owns: the tenant's reason codes per direction (their set-up is ``setup``), and the checks
every use case starts with: ``start_movement`` inside the unit (the
asset, the reason, the holder's row locked and its lots, in one round trip on PostgreSQL), and
``prepare`` for callers outside a unit. Protects: a movement only ever uses a reason of its own
direction that is in the tenant's catalogue, on an asset configured for points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from rewardledger.domain import ids
from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.points import (
    Direction,
    ExpiryPolicy,
    Lot,
    Reason,
    holder_account_id,
    holder_id,
)
from rewardledger.domain.points_queries import MovementKey, MovementReads
from rewardledger.domain.points_requests import AssetHolders
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.port import store_of

# The holders' wallets and the issuance account: moved by the points calls only.
MANAGED_BY = "points"

T = TypeVar("T")


def reason_of(ledger: Ledger, tenant_id: str, direction: Direction, code: object) -> Reason:
    ids.reason(code, "dtype")
    found = store_of(ledger).reasons(tenant_id).get((direction.value, cast(str, code)))
    if found is None:
        known = sorted(c for d, c in store_of(ledger).reasons(tenant_id) if d == direction.value)
        raise ValidationError(
            f"{code!r} is not a {direction.value} reason of this tenant; known: "
            f"{', '.join(known) or 'none'}. A key of role admin adds it with POST "
            f"/v1/tenants/{tenant_id}/points/reasons "
            f'{{"direction": "{direction.value}", "dtype": "{code}"}} or '
            f"`rewardledger points reason {direction.value} {code} -t {tenant_id}`.",
            field="dtype",
        )
    return found


def asset_policy(ledger: Ledger, tenant_id: str, asset: str) -> ExpiryPolicy:
    ids.asset_code(asset)
    policy = store_of(ledger).get_expiry(tenant_id, asset)
    if policy is None:
        raise NotFound(
            "points asset",
            asset,
            f"{asset} is not a points asset; a key of role admin makes it one with POST "
            f'/v1/tenants/{tenant_id}/points/configure {{"asset": "{asset}"}} or '
            f"`rewardledger points configure -t {tenant_id} --asset {asset}`.",
        )
    return policy


def prepare(
    ledger: Ledger, tenant_id: str, asset: str, direction: Direction, dtype: object, holder: str
) -> tuple[ExpiryPolicy, Reason]:
    """Check the asset and the reason and open the holder's account if it is new, with one
    read: (the asset's expiry policy, the reason)."""
    key = movement_key(asset, direction, dtype, holder)
    policy, reason, known = store_of(ledger).context(tenant_id, key)
    if policy is None:
        asset_policy(ledger, tenant_id, asset)  # raises its not_found
    if reason is None:
        reason = reason_of(ledger, tenant_id, direction, dtype)  # raises its validation_error
    if not known:
        open_holder(ledger, tenant_id, asset, holder)
    assert policy is not None
    return policy, reason


def check_holder(value: object) -> str:
    return holder_id(value)


def open_holder(ledger: Ledger, tenant_id: str, asset: str, holder: str) -> None:
    """Open the holder's account the first time it is seen (its own short transaction)."""
    if not store_of(ledger).holder_exists(tenant_id, asset, holder):
        # Not no_negative: a reason may allow a negative balance; the default rule is checked
        # under the holder's lock by every spend (and again by ``validate``).
        ledger.create_account(
            tenant_id, holder_account_id(asset, holder), asset=asset, managed_by=MANAGED_BY
        )


class NewHolder(Exception):
    """The holder is seen for the first time: its account is opened, then the unit runs again."""


@dataclass(frozen=True)
class Start:
    """What a movement's unit read first, with the holder's row locked."""

    policy: ExpiryPolicy
    reason: Reason
    replayed: bool
    lots: list[Lot]


def movement_key(asset: str, direction: Direction, dtype: object, holder: str) -> MovementKey:
    """The key of a movement, its asset code and reason code checked (not yet looked up)."""
    ids.asset_code(asset)
    ids.reason(dtype, "dtype")
    return MovementKey(asset, direction, cast(str, dtype), holder)


def start_movement(
    ledger: Ledger, work: UnitOfWork, reads: MovementReads, *, opened: bool
) -> Start:
    """Inside the unit, in one round trip on PostgreSQL: check the asset and the reason (as
    ``prepare``), lock the holder's row, say whether ``reads.transfer_id`` is in the journal,
    and read the holder's open lots (or the lots ``reads.lot_ids``) after the lock.

    A holder seen for the first time raises ``NewHolder`` unless ``opened`` (its account was
    opened by ``run_movement``): then its row is created and locked here.
    """
    store = store_of(ledger)
    key = reads.key
    asset, holder = key.asset_code, key.holder_id
    policy, reason, known, replayed, lots = store.movement_context(work.unit, work.tenant_id, reads)
    if policy is None:
        asset_policy(ledger, work.tenant_id, asset)  # raises its not_found
    if reason is None:
        # raises its validation_error
        reason = reason_of(ledger, work.tenant_id, key.direction, key.reason)
    assert policy is not None
    if not known:
        if not opened:
            raise NewHolder(holder)
        store.lock_holders(work.unit, work.tenant_id, AssetHolders.one(asset, holder), work.now)
        if reads.lot_ids is None:
            lots = store.open_lots(work.unit, work.tenant_id, asset, [holder])
        else:
            lots = list(store.get_lots(work.unit, work.tenant_id, reads.lot_ids).values())
    return Start(policy, reason, replayed, lots)


def run_movement(
    ledger: Ledger, tenant_id: str, key: MovementKey, use_case: Callable[[UnitOfWork, bool], T]
) -> T:
    """Run a movement's unit (``use_case(work, opened)``); the first time a holder is seen its
    account is opened in a short transaction of its own and the unit runs again."""
    try:
        return ledger.run(tenant_id, lambda work: use_case(work, False))
    except NewHolder:
        open_holder(ledger, tenant_id, key.asset_code, key.holder_id)
        return ledger.run(tenant_id, lambda work: use_case(work, True))
