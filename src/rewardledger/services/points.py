"""Points wallets (issue 4): earn, spend, earn lots, expiry, pending points, balances,
accumulations, integrity and import.

Owns: the points use cases, each one transaction with its journal transfers (``ledger.run``).
The model of seed 004 built on the core: every ``fact_accumulations`` row is a transfer
between the tenant's points-issuance account (``pts:<ASSET>:@issued``, may go negative) and the
holder's account (``pts:<ASSET>:<holder>``); the holder's balance IS that account's
materialized balance (the seed's ``fact_balance_points``), written in the same transaction as
the row. Beside the journal, every earn is a lot with its remainder; a spend takes from lots
soonest-expiry first, then oldest, and records which (``points_lot_moves``).

Protects: balance == sum of the holder's rows == sum of its lots' remainders; a spend never
takes a balance below zero unless its reason allows it (checked under the holder's lock, and
flagged ``negative_allowed`` on the row); an expiry, an activation and a refund are each
written once, under a derived id.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, Any, Protocol, cast

from rewardledger.domain import ids
from rewardledger.domain.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    LedgerError,
    NotFound,
    PointsNotPending,
    ValidationError,
)
from rewardledger.domain.limits import (
    HOLDER_ID_LENGTH_MAX,
    INTEGRITY_CHUNK_SIZE,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    POINTS_FORECAST_DATES_MAX,
    POINTS_IMPORT_BAD_ROWS_LISTED_MAX,
    POINTS_IMPORT_BATCH_SIZE,
    POINTS_IMPORT_FIELD_LENGTH_MAX,
    POINTS_JOBS_BATCH_SIZE,
    REPORT_DISCREPANCIES_MAX,
)
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.points import (
    EXPIRY_REASON,
    KIND_EARN,
    KIND_EXPIRE,
    KIND_SPEND,
    AccumType,
    Direction,
    ExpiryPolicy,
    ImportRow,
    Lot,
    LotState,
    Reason,
    deficit_lot_id,
    expire_id,
    holder_account_id,
    import_transfer_id,
    is_expired,
    issuance_account_id,
    plan_consumption,
    seed_reasons,
)
from rewardledger.domain.transfers import (
    Operation,
    Phase,
    PostPending,
    TransferRequest,
    VoidPending,
    check_instant,
    derived_id,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.results import RepairReport
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.ledger.unit import UnitOfWork

DEFAULT_ASSET = "LUMIS"


class PointsStore(Protocol):
    """What the points service needs of its storage (``storage.points.SqlPointsStore``)."""

    def get_expiry(self, tenant_id: str, asset_code: str) -> ExpiryPolicy | None: ...
    def points_assets(self, tenant_id: str) -> list[str]: ...
    def put_asset(
        self,
        unit: StorageUnit,
        tenant_id: str,
        asset_code: str,
        expiry: ExpiryPolicy,
        now: datetime,
    ) -> None: ...
    def reasons(self, tenant_id: str) -> dict[tuple[str, str], Reason]: ...
    def put_reason(
        self, unit: StorageUnit, tenant_id: str, reason: Reason, now: datetime
    ) -> None: ...
    def holder_exists(self, tenant_id: str, asset_code: str, holder_id: str) -> bool: ...
    def known_holders(
        self, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> set[str]: ...
    def context(
        self, tenant_id: str, asset_code: str, direction: str, reason: str, holder_id: str
    ) -> tuple[ExpiryPolicy | None, Reason | None, bool]: ...
    def holders(self, tenant_id: str, after: str | None, limit: int) -> list[tuple[str, str]]: ...
    def lock_holders(
        self,
        unit: StorageUnit,
        tenant_id: str,
        asset_code: str,
        holder_ids: Sequence[str],
        now: datetime,
    ) -> None: ...
    def open_lots(
        self, unit: StorageUnit, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> list[Lot]: ...
    def get_lot(self, unit: ReadUnit | None, tenant_id: str, lot_id: str) -> Lot | None: ...
    def get_lots(
        self, unit: StorageUnit, tenant_id: str, lot_ids: Sequence[str]
    ) -> dict[str, Lot]: ...
    def insert_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None: ...
    def update_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None: ...
    def insert_moves(
        self,
        unit: StorageUnit,
        tenant_id: str,
        moves: Sequence[tuple[str, str, int]],
        now: datetime,
    ) -> None: ...
    def moves_of(
        self, unit: ReadUnit | None, tenant_id: str, movement_id: str
    ) -> list[tuple[str, int]]: ...
    def existing_transfer_ids(
        self, unit: StorageUnit, tenant_id: str, transfer_ids: Sequence[str]
    ) -> set[str]: ...
    def due_lots(
        self, tenant_id: str, state: LotState, now: datetime, limit: int
    ) -> list[tuple[str, str, str]]: ...
    def expiring(
        self, tenant_id: str, asset_code: str, holder_id: str, limit: int
    ) -> list[tuple[datetime, int]]: ...
    def get_redemption(
        self,
        unit: ReadUnit | None,
        tenant_id: str,
        *,
        redemption_id: str | None = None,
        code: str | None = None,
    ) -> dict[str, Any] | None: ...
    def insert_redemption(self, unit: StorageUnit, row: Mapping[str, Any]) -> None: ...
    def update_redemption(
        self, unit: StorageUnit, tenant_id: str, redemption_id: str, values: Mapping[str, Any]
    ) -> None: ...
    def due_redemptions(self, tenant_id: str, now: datetime, limit: int) -> list[str]: ...
    def accumulations(
        self,
        tenant_id: str,
        account_id: str,
        *,
        accum_type: AccumType | None,
        since: datetime | None,
        until: datetime | None,
        before_seq: int | None,
        limit: int,
    ) -> list[dict[str, Any]]: ...
    def holder_sums(
        self, tenant_id: str, account_ids: Sequence[str]
    ) -> dict[str, dict[str, int]]: ...
    def lot_sums(
        self, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> dict[str, int]: ...


STORE: Port[PointsStore] = Port("points")


def store_of(ledger: Ledger) -> PointsStore:
    return ledger.extension(STORE)


# Results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointsMovement:
    """What an earn or a spend did: its row, and the lots it created or consumed."""

    id: str
    holder_id: str
    asset: str
    accum_type: str
    dtype: str
    quantity: Amount  # signed, as the seed's quantity
    pending: bool
    negative_allowed: bool
    lots: list[tuple[str, Amount]]
    replayed: bool


@dataclass(frozen=True, slots=True)
class PointsBalance:
    holder_id: str
    asset: str
    balance: Amount  # posted: what the seed's fact_balance_points.balance holds
    available: Amount
    pending: Amount
    latest_update: datetime | None
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class Accumulation:
    """One row in the seed's ``fact_accumulations`` shape."""

    id: str
    user_id: str
    accum_type: str
    dtype: str | None
    quantity: Amount
    balance: Amount
    date: datetime
    redemption_id: str | None
    negative_allowed: bool
    seq: int


@dataclass(frozen=True, slots=True)
class AccumulationPage:
    holder_id: str
    rows: list[Accumulation]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class HolderIntegrity:
    """One holder's line of the seed's ``v_ledger_summary``."""

    user_id: str
    asset: str
    earned: Amount
    spent: Amount
    expired: Amount
    balance: Amount  # materialized
    ledger_balance: Amount  # sum of the rows
    lots_balance: Amount  # sum of the active lots' remainders
    rows: int

    @property
    def integrity_status(self) -> str:
        return "OK" if self.balance == self.ledger_balance == self.lots_balance else "MISMATCH"


@dataclass(frozen=True, slots=True)
class FixReport:
    repair: RepairReport
    still_mismatched: list[HolderIntegrity]


# Settings -----------------------------------------------------------------------------------


def configure(
    ledger: Ledger,
    tenant_id: str,
    asset: str = DEFAULT_ASSET,
    *,
    scale: int = 0,
    expiry: ExpiryPolicy | None = None,
    reasons: Sequence[Reason] = (),
) -> None:
    """Make ``asset`` a points asset (created if missing) with its expiry policy, and add the
    seed's reason codes plus ``reasons`` to the tenant's catalogue (again: updates them)."""
    ids.asset_code(asset)
    ledger.create_asset(tenant_id, asset, scale=scale)
    ledger.create_account(tenant_id, issuance_account_id(asset), asset=asset)
    known = store_of(ledger).reasons(tenant_id)
    wanted = [r for r in seed_reasons() if (r.direction.value, r.code) not in known]
    wanted.extend(reasons)
    policy = expiry or ExpiryPolicy()

    def use_case(work: UnitOfWork) -> None:
        store = store_of(ledger)
        store.put_asset(work.unit, tenant_id, asset, policy, work.now)
        for reason in wanted:
            store.put_reason(work.unit, tenant_id, reason, work.now)

    ledger.run(tenant_id, use_case)


def add_reason(ledger: Ledger, tenant_id: str, reason: Reason) -> Reason:
    """Add (or change) one reason code of the tenant's catalogue."""
    ledger.get_tenant(tenant_id)
    ledger.run(
        tenant_id, lambda work: store_of(ledger).put_reason(work.unit, tenant_id, reason, work.now)
    )
    return reason


def reasons(ledger: Ledger, tenant_id: str) -> list[Reason]:
    ledger.get_tenant(tenant_id)
    return sorted(store_of(ledger).reasons(tenant_id).values(), key=lambda r: (r.direction, r.code))


def reason_of(ledger: Ledger, tenant_id: str, direction: Direction, code: object) -> Reason:
    ids.reason(code, "dtype")
    found = store_of(ledger).reasons(tenant_id).get((direction.value, cast(str, code)))
    if found is None:
        known = sorted(c for d, c in store_of(ledger).reasons(tenant_id) if d == direction.value)
        raise ValidationError(
            f"{code!r} is not a {direction.value} reason of this tenant; known: "
            f"{', '.join(known) or 'none (configure points first)'}. Add it to the catalogue "
            "first.",
            field="dtype",
        )
    return found


def asset_policy(ledger: Ledger, tenant_id: str, asset: str) -> ExpiryPolicy:
    ids.asset_code(asset)
    policy = store_of(ledger).get_expiry(tenant_id, asset)
    if policy is None:
        raise NotFound("points asset", asset, f"{asset} is not a points asset; configure it.")
    return policy


def prepare(
    ledger: Ledger, tenant_id: str, asset: str, direction: Direction, dtype: object, holder: str
) -> tuple[ExpiryPolicy, Reason]:
    """Check the asset and the reason and open the holder's account if it is new, with one
    read: (the asset's expiry policy, the reason)."""
    ids.asset_code(asset)
    ids.reason(dtype, "dtype")
    policy, reason, known = store_of(ledger).context(
        tenant_id, asset, direction.value, cast(str, dtype), holder
    )
    if policy is None:
        asset_policy(ledger, tenant_id, asset)  # raises its not_found
    if reason is None:
        reason = reason_of(ledger, tenant_id, direction, dtype)  # raises its validation_error
    if not known:
        open_holder(ledger, tenant_id, asset, holder)
    assert policy is not None
    return policy, reason


def check_holder(value: object) -> str:
    holder = ids.account_id(value, "holder")
    if len(holder) > HOLDER_ID_LENGTH_MAX:
        raise ValidationError(
            f"holder must be at most {HOLDER_ID_LENGTH_MAX} characters.", field="holder"
        )
    return holder


def open_holder(ledger: Ledger, tenant_id: str, asset: str, holder: str) -> None:
    """Open the holder's account the first time it is seen (its own short transaction)."""
    if not store_of(ledger).holder_exists(tenant_id, asset, holder):
        # Not no_negative: a reason may allow a negative balance; the default rule is checked
        # under the holder's lock by every spend (and again by ``validate``).
        ledger.create_account(tenant_id, holder_account_id(asset, holder), asset=asset)


# In-unit steps (shared by earn, spend, redemptions, jobs and import) -------------------------


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
    return [expired.get(lot.lot_id, lot) for lot in lots], len(due)


def _cover_deficit(lots: Sequence[Lot], lot: Lot) -> tuple[Lot, Lot | None, int]:
    """An activated lot first pays back the holder's deficit: (lot, deficit, amount taken)."""
    deficit = next((d for d in lots if d.deficit and d.remaining_minor < 0), None)
    if deficit is None:
        return lot, None, 0
    taken = min(lot.remaining_minor, -deficit.remaining_minor)
    return (
        replace(lot, remaining_minor=lot.remaining_minor - taken),
        replace(deficit, remaining_minor=deficit.remaining_minor + taken),
        taken,
    )


def _activate_lot(
    work: UnitOfWork, store: PointsStore, lot: Lot, lots: Sequence[Lot], policy: ExpiryPolicy
) -> None:
    """Make an (already posted) lot spendable: start its expiry clock, pay the deficit."""
    active = replace(
        lot, state=LotState.ACTIVE, activated_at=work.now, expires_at=policy.expires_at(work.now)
    )
    active, deficit, taken = _cover_deficit(lots, active)
    changed = [active] + ([deficit] if deficit is not None else [])
    store.update_lots(work.unit, work.tenant_id, changed)
    if taken:
        assert deficit is not None
        store.insert_moves(
            work.unit,
            work.tenant_id,
            [
                (f"{lot.lot_id}.cover", lot.lot_id, -taken),
                (f"{lot.lot_id}.cover", deficit.lot_id, taken),
            ],
            work.now,
        )


def _deficit_of(work: UnitOfWork, store: PointsStore, asset: str, holder: str) -> list[Lot]:
    """The holder's deficit lot, if it has one (read by key: cheaper than all its lots)."""
    deficit = store.get_lot(work.unit, work.tenant_id, deficit_lot_id(asset, holder))
    return [] if deficit is None else [deficit]


def _policy_for(reason: Reason, asset_policy: ExpiryPolicy) -> ExpiryPolicy:
    return reason.expiry if reason.expiry is not None else asset_policy


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
) -> PointsMovement:
    """Take ``amount_minor`` from the holder's lots and post the spend row (holder locked)."""
    scale = work.assets[asset].scale
    store.lock_holders(work.unit, work.tenant_id, asset, [holder], work.now)
    lots = store.open_lots(work.unit, work.tenant_id, asset, [holder])
    lots, _ = expire_due_lots(work, store, asset, lots)
    plan, shortfall = plan_consumption(lots, amount_minor, work.now)
    if shortfall and not reason.allow_negative:
        available = sum(taken for _, taken in plan)
        raise InsufficientPoints(
            f"{holder} has {Amount(available, scale)} spendable {asset}; the spend needs "
            f"{Amount(amount_minor, scale)}. Nothing was written.",
            holder=holder,
            available=str(Amount(available, scale)),
            amount=str(Amount(amount_minor, scale)),
        )
    negative = bool(shortfall)
    row_metadata = dict(metadata)
    if negative:
        row_metadata["negative_allowed"] = True
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
    by_id = {lot.lot_id: lot for lot in lots}
    changed = [
        replace(by_id[lot_id], remaining_minor=by_id[lot_id].remaining_minor - taken)
        for lot_id, taken in plan
    ]
    moves = [(transfer_id, lot_id, -taken) for lot_id, taken in plan]
    if shortfall:
        deficit_id = deficit_lot_id(asset, holder)
        deficit = store.get_lot(work.unit, work.tenant_id, deficit_id)
        if deficit is None:
            store.insert_lots(
                work.unit,
                work.tenant_id,
                [
                    Lot(
                        deficit_id,
                        holder,
                        asset,
                        reason.code,
                        0,
                        -shortfall,
                        LotState.ACTIVE,
                        work.now,
                        work.now,
                        None,
                        None,
                        deficit=True,
                    )
                ],
            )
        else:
            changed.append(replace(deficit, remaining_minor=deficit.remaining_minor - shortfall))
        moves.append((transfer_id, deficit_id, -shortfall))
    store.update_lots(work.unit, work.tenant_id, changed)
    store.insert_moves(work.unit, work.tenant_id, moves, work.now)
    return PointsMovement(
        transfer_id,
        holder,
        asset,
        AccumType.SPEND.value,
        reason.code,
        Amount(-amount_minor, scale),
        False,
        negative,
        [(lot_id, Amount(taken, scale)) for lot_id, taken in moves_as_taken(moves)],
        False,
    )


def moves_as_taken(moves: Iterable[tuple[str, str, int]]) -> list[tuple[str, int]]:
    return [(lot_id, -amount) for _, lot_id, amount in moves]


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
) -> tuple[int, int]:
    """Give a spend's points back to the lots it took them from, under ``refund_id`` (once).

    Points of a lot that has expired since are not revived: they are not credited (the
    forfeited amount is returned), so the balance stays equal to the sum of the lots.
    Returns (refunded, forfeited) in minor units.
    """
    store.lock_holders(work.unit, work.tenant_id, asset, [holder], work.now)
    if store.existing_transfer_ids(work.unit, work.tenant_id, [refund_id]):
        back = sum(a for _, a in store.moves_of(work.unit, work.tenant_id, refund_id))
        taken = -sum(a for _, a in store.moves_of(work.unit, work.tenant_id, spend_id))
        return back, taken - back
    # Lots due to expire are expired first, so that what is given back is only live lots.
    lots = store.open_lots(work.unit, work.tenant_id, asset, [holder])
    expire_due_lots(work, store, asset, lots)
    taken_from = [(lot_id, -a) for lot_id, a in store.moves_of(work.unit, work.tenant_id, spend_id)]
    current = store.get_lots(work.unit, work.tenant_id, [lot_id for lot_id, _ in taken_from])
    changed: list[Lot] = []
    moves: list[tuple[str, str, int]] = []
    forfeited = 0
    for lot_id, amount in taken_from:
        lot = current[lot_id]
        if lot.state is LotState.ACTIVE and (
            lot.deficit or lot.expires_at is None or lot.expires_at > work.now
        ):
            changed.append(replace(lot, remaining_minor=lot.remaining_minor + amount))
            moves.append((refund_id, lot_id, amount))
        else:
            forfeited += amount
    refunded = sum(a for _, _, a in moves)
    if refunded:
        request = TransferRequest(
            id=refund_id,
            debit_account_id=issuance_account_id(asset),
            credit_account_id=holder_account_id(asset, holder),
            asset=asset,
            amount=str(Amount(refunded, work.assets[asset].scale)),
            kind="refund",
            reason=reason_code,
            metadata={**metadata, "refund_of": spend_id},
        )
        raise_for_single(work.submit([request])[0])
        store.update_lots(work.unit, work.tenant_id, changed)
        store.insert_moves(work.unit, work.tenant_id, moves, work.now)
    return refunded, forfeited


# Earn and spend -----------------------------------------------------------------------------


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
    policy, reason = prepare(ledger, tenant_id, asset, Direction.EARN, dtype, holder)
    store = store_of(ledger)
    pending = reason.makes_pending

    def use_case(work: UnitOfWork) -> PointsMovement:
        store.lock_holders(work.unit, tenant_id, asset, [holder], work.now)
        existing = store.get_lot(work.unit, tenant_id, lot_id)
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
            return _movement_of_lot(existing, scale, replayed=True)
        lot = Lot(
            lot_id,
            holder,
            asset,
            reason.code,
            amount_minor,
            amount_minor,
            LotState.PENDING if pending else LotState.ACTIVE,
            work.now,
            None,
            None,
            work.now + timedelta(seconds=reason.pending_seconds)
            if reason.pending_seconds is not None
            else None,
        )
        store.insert_lots(work.unit, tenant_id, [lot])
        if not pending:
            _activate_lot(
                work,
                store,
                lot,
                _deficit_of(work, store, asset, holder),
                _policy_for(reason, policy),
            )
        work.event("points.earned", lot_id, {"holder": holder, "amount": str(request.amount)})
        return _movement_of_lot(lot, scale, replayed=False)

    return ledger.run(tenant_id, use_case)


def _movement_of_lot(lot: Lot, scale: int, *, replayed: bool) -> PointsMovement:
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
    _, reason = prepare(ledger, tenant_id, asset, Direction.SPEND, dtype, holder)
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> PointsMovement:
        if store.existing_transfer_ids(work.unit, tenant_id, [transfer_id]):
            return replayed_spend(
                ledger, work, store, transfer_id, holder, asset, amount_minor, reason
            )
        return spend_in_unit(
            work,
            store,
            transfer_id=transfer_id,
            asset=asset,
            holder=holder,
            amount_minor=amount_minor,
            reason=reason,
            metadata=dict(metadata or {}),
        )

    return ledger.run(tenant_id, use_case)


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
    if (
        stored.debit_account_id != holder_account_id(asset, holder)
        or stored.amount_minor != amount_minor
        or stored.reason != reason.code
        or stored.kind != KIND_SPEND
        or stored.metadata.get("redemption_id") != redemption_id
    ):
        differing = [
            name
            for name, same in (
                ("holder", stored.debit_account_id == holder_account_id(asset, holder)),
                ("amount", stored.amount_minor == amount_minor),
                ("dtype", stored.reason == reason.code and stored.kind == KIND_SPEND),
                ("redemption_id", stored.metadata.get("redemption_id") == redemption_id),
            )
            if not same
        ]
        raise IdempotencyConflict(transfer_id, differing)
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


# Pending points ------------------------------------------------------------------------------


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
    lot_policy = policy if reason is None else _policy_for(reason, policy)
    wanted = LotState.ACTIVE if activate else LotState.CANCELLED

    def use_case(work: UnitOfWork) -> PointsMovement:
        store.lock_holders(work.unit, tenant_id, asset, [holder], work.now)
        lot = store.get_lot(work.unit, tenant_id, lot_id)
        assert lot is not None
        scale = work.assets[asset].scale
        # Only a lot that was pending is activated or cancelled again as a replay (an earn
        # that was never pending is active too, but was never activated).
        if lot.state is wanted and (
            not activate
            or store.existing_transfer_ids(work.unit, tenant_id, [derived_id(lot_id, Phase.POST)])
        ):
            return _movement_of_lot(lot, scale, replayed=True)
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
            _activate_lot(work, store, lot, _deficit_of(work, store, asset, holder), lot_policy)
        else:
            store.update_lots(
                work.unit, tenant_id, [replace(lot, state=LotState.CANCELLED, remaining_minor=0)]
            )
        work.event(
            "points.activated" if activate else "points.cancelled", lot_id, {"holder": holder}
        )
        return replace(_movement_of_lot(lot, scale, replayed=False), pending=False)

    return ledger.run(tenant_id, use_case)


# Reads ---------------------------------------------------------------------------------------


def balance(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    *,
    asset: str = DEFAULT_ASSET,
    at: datetime | None = None,
) -> PointsBalance:
    """The holder's balance now (available and pending), or its balance as of ``at``."""
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    scale = ledger.get_asset(tenant_id, asset).scale
    if not store_of(ledger).holder_exists(tenant_id, asset, holder):
        zero = Amount(0, scale)
        return PointsBalance(holder, asset, zero, zero, zero, None, at)
    account_id = holder_account_id(asset, holder)
    if at is not None:
        view = ledger.balance(tenant_id, account_id, at=check_instant(at, "at"))
        zero = Amount(0, scale)
        return PointsBalance(holder, asset, view.posted, view.posted, zero, None, at)
    account = ledger.get_account(tenant_id, account_id)
    b = account.balances
    return PointsBalance(
        holder,
        asset,
        Amount(b.posted, scale),
        Amount(b.available, scale),
        Amount(b.credits_pending, scale),
        account.updated_at,
        None,
    )


def accumulations(
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    *,
    asset: str = DEFAULT_ASSET,
    accum_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> AccumulationPage:
    """The holder's rows in the seed's ``fact_accumulations`` shape, newest first."""
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"limit must be from 1 to {PAGE_SIZE_MAX}.", field="limit")
    kind: AccumType | None = None
    if accum_type is not None:
        try:
            kind = AccumType(accum_type)
        except ValueError as error:
            raise ValidationError(
                "accum_type must be earn, spend or expire.", field="accum_type"
            ) from error
    before: int | None = None
    if cursor is not None:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 19:
            raise ValidationError(
                "cursor is not valid; pass the next_cursor of the previous page.", field="cursor"
            )
        before = int(cursor)
    if since is not None:
        check_instant(since, "from")
    if until is not None:
        check_instant(until, "to")
    scale = ledger.get_asset(tenant_id, asset).scale
    rows = store_of(ledger).accumulations(
        tenant_id,
        holder_account_id(asset, holder),
        accum_type=kind,
        since=since,
        until=until,
        before_seq=before,
        limit=limit,
    )
    page = [
        Accumulation(
            id=row["transfer_id"],
            user_id=holder,
            accum_type=(
                AccumType.EXPIRE.value
                if row["kind"] == KIND_EXPIRE
                else AccumType.EARN.value
                if row["quantity_minor"] > 0
                else AccumType.SPEND.value
            ),
            dtype=row["reason"],
            quantity=Amount(row["quantity_minor"], scale),
            balance=Amount(int(row["balance_after"]), scale),
            date=row["effective_at"],
            redemption_id=(row["metadata"] or {}).get("redemption_id"),
            negative_allowed=bool((row["metadata"] or {}).get("negative_allowed")),
            seq=int(row["seq"]),
        )
        for row in rows
    ]
    next_cursor = str(page[-1].seq) if len(page) == limit and page[-1].seq > 1 else None
    return AccumulationPage(holder, page, next_cursor)


def expiring(
    ledger: Ledger, tenant_id: str, holder: str, *, asset: str = DEFAULT_ASSET
) -> list[tuple[datetime, Amount]]:
    """What will expire when, if not spent first: (expires_at, points), soonest first."""
    holder = check_holder(holder)
    asset_policy(ledger, tenant_id, asset)
    scale = ledger.get_asset(tenant_id, asset).scale
    return [
        (moment, Amount(amount, scale))
        for moment, amount in store_of(ledger).expiring(
            tenant_id, asset, holder, POINTS_FORECAST_DATES_MAX
        )
    ]


# Due jobs ------------------------------------------------------------------------------------


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
        store.lock_holders(work.unit, tenant_id, asset, [holder], work.now)
        lots = list(store.get_lots(work.unit, tenant_id, lot_ids).values())
        _, count = expire_due_lots(work, store, asset, lots)
        return count

    return ledger.run(tenant_id, use_case)


# Integrity -----------------------------------------------------------------------------------


def validate(ledger: Ledger, tenant_id: str) -> list[HolderIntegrity]:
    """Holders whose materialized balance differs from their rows or their lots (the seed's
    ``validate_balance_integrity``); at most REPORT_DISCREPANCIES_MAX are listed."""
    return [line for line in _summaries(ledger, tenant_id, None) if line.integrity_status != "OK"][
        :REPORT_DISCREPANCIES_MAX
    ]


def summary(ledger: Ledger, tenant_id: str, *, limit: int = PAGE_SIZE_MAX) -> list[HolderIntegrity]:
    """Per holder: earned, spent, expired, balance, rows and integrity status (the seed's
    ``v_ledger_summary``)."""
    return _summaries(ledger, tenant_id, limit)


def _summaries(ledger: Ledger, tenant_id: str, limit: int | None) -> list[HolderIntegrity]:
    ledger.get_tenant(tenant_id)
    store = store_of(ledger)
    lines: list[HolderIntegrity] = []
    after: str | None = None
    while True:
        page = store.holders(tenant_id, after, INTEGRITY_CHUNK_SIZE)
        if not page:
            break
        after = "\x1f".join(page[-1])
        by_asset: dict[str, list[str]] = {}
        for asset, holder in page:
            by_asset.setdefault(asset, []).append(holder)
        for asset, holders in by_asset.items():
            scale = ledger.get_asset(tenant_id, asset).scale
            account_ids = [holder_account_id(asset, h) for h in holders]
            sums = store.holder_sums(tenant_id, account_ids)
            lot_sums = store.lot_sums(tenant_id, asset, holders)
            for holder, account_id in zip(holders, account_ids, strict=True):
                s = sums[account_id]
                lines.append(
                    HolderIntegrity(
                        holder,
                        asset,
                        Amount(s["earned"], scale),
                        Amount(s["spent"], scale),
                        Amount(s["expired"], scale),
                        Amount(s["materialized"], scale),
                        Amount(s["earned"] - s["spent"] - s["expired"], scale),
                        Amount(lot_sums.get(holder, 0), scale),
                        s["rows"],
                    )
                )
                if limit is not None and len(lines) >= limit:
                    return lines
        if len(page) < INTEGRITY_CHUNK_SIZE:
            break
    return lines


def fix(ledger: Ledger, tenant_id: str, *, actor: str) -> FixReport:
    """Rebuild materialized balances from the rows, recording every change (the seed's
    ``fix_balance_discrepancies``); list what still differs from the lots."""
    report = ledger.repair(tenant_id, actor=actor)
    return FixReport(report, validate(ledger, tenant_id))


# Import --------------------------------------------------------------------------------------

IMPORT_FIELDS = ("user", "accum_type", "dtype", "quantity", "date", "redemption_id")


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    message: str


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    bad_rows: int = 0
    bad: list[BadRow] = field(default_factory=list)
    batches_skipped: int = 0


def read_rows(stream: IO[str], *, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, fields) of a CSV (with a header) or JSON lines file, one at a time."""
    first = stream.readline()
    if fmt is None:
        fmt = "jsonl" if first.lstrip().startswith("{") else "csv"
    if fmt == "jsonl":
        line = 1
        text = first
        while text:
            if text.strip():
                try:
                    value = json.loads(text, parse_float=str)
                except ValueError:
                    value = None
                yield line, value if isinstance(value, dict) else {"__error__": "not a JSON object"}
            text = stream.readline()
            line += 1
        return
    reader = csv.DictReader(_chain(io.StringIO(first), stream), restkey="__extra__")
    for record in reader:
        yield reader.line_num, dict(record)


def _chain(*streams: IO[str]) -> Iterator[str]:
    for s in streams:
        yield from s


def parse_row(
    line: int,
    record: Mapping[str, Any],
    scale: int,
    earn_reasons: set[str],
    spend_reasons: set[str],
    occurrence: Callable[[tuple[str, ...]], int],
) -> ImportRow:
    """Check one row of the seed's shape; raise ``ValidationError`` saying what is wrong."""
    if "__error__" in record:
        raise ValidationError(str(record["__error__"]))
    values: dict[str, str] = {}
    for name in IMPORT_FIELDS:
        raw = record.get(name)
        text = "" if raw is None else str(raw).strip()
        if len(text) > POINTS_IMPORT_FIELD_LENGTH_MAX:
            raise ValidationError(f"{name} is too long.", field=name)
        values[name] = text
    holder = check_holder(values["user"] or None)
    try:
        direction = Direction(values["accum_type"])
    except ValueError as error:
        raise ValidationError("accum_type must be earn or spend.", field="accum_type") from error
    known = earn_reasons if direction is Direction.EARN else spend_reasons
    if values["dtype"] not in known:
        raise ValidationError(
            f"dtype {values['dtype']!r} is not a {direction.value} reason of this tenant.",
            field="dtype",
        )
    quantity = values["quantity"]
    if quantity.startswith(("-", "+")):
        sign, magnitude = (-1 if quantity[0] == "-" else 1), quantity[1:]
    else:
        sign, magnitude = 1, quantity
    minor = parse_positive(magnitude, scale, field="quantity")
    if (sign > 0) != (direction is Direction.EARN):
        raise ValidationError(
            "quantity must be positive for earn rows and negative for spend rows.",
            field="quantity",
        )
    try:
        date = datetime.fromisoformat(values["date"])
    except ValueError as error:
        raise ValidationError("date must be an ISO 8601 time.", field="date") from error
    if date.tzinfo is None:
        raise ValidationError("date must carry a UTC offset.", field="date")
    check_instant(date, "date")
    redemption = values["redemption_id"] or None
    key = (
        holder,
        direction.value,
        values["dtype"],
        str(sign * minor),
        date.isoformat(),
        redemption or "",
    )
    transfer_id = str(record.get("id") or "").strip() or import_transfer_id(key, occurrence(key))
    ids.transfer_id(transfer_id, "id")
    return ImportRow(
        line, holder, direction, values["dtype"], sign * minor, date, redemption, transfer_id
    )


def import_history(
    ledger: Ledger,
    tenant_id: str,
    stream: IO[str],
    *,
    asset: str = DEFAULT_ASSET,
    skip_bad_rows: bool = False,
    batch_size: int = POINTS_IMPORT_BATCH_SIZE,
    on_rows: Callable[[int], None] | None = None,
) -> ImportReport:
    """Load a points history (the seed's rows) in batches, each one transaction.

    Idempotent: a row's transfer id is derived from its fields (or taken from an ``id``
    column), so a second run finds every row and imports nothing. A batch with a bad row loads
    nothing unless ``skip_bad_rows``; either way the bad rows are reported with their lines.
    """
    asset_policy(ledger, tenant_id, asset)
    if not 1 <= batch_size <= POINTS_IMPORT_BATCH_SIZE:
        raise ValidationError(
            f"batch_size must be from 1 to {POINTS_IMPORT_BATCH_SIZE}.", field="batch_size"
        )
    scale = ledger.get_asset(tenant_id, asset).scale
    catalogue = store_of(ledger).reasons(tenant_id)
    earn_reasons = {c for d, c in catalogue if d == Direction.EARN.value}
    spend_reasons = {c for d, c in catalogue if d == Direction.SPEND.value}
    report = ImportReport()
    # Identical rows are told apart by their occurrence among rows of the same date: the
    # counter is reset when the date changes, so memory stays flat on a file sorted by date.
    counts: dict[tuple[str, ...], int] = {}
    current_date: list[str] = [""]

    def occurrence(key: tuple[str, ...]) -> int:
        if key[4] != current_date[0]:
            counts.clear()
            current_date[0] = key[4]
        counts[key] = counts.get(key, 0) + 1
        return counts[key]

    batch: list[ImportRow] = []
    batch_bad: list[BadRow] = []

    def flush() -> None:
        refused: list[BadRow] = []
        if batch:
            # A batch with a bad row is still planned (to find the spends it could not cover),
            # but loaded only if bad rows are to be skipped.
            imported, present, refused = _import_batch(
                ledger,
                tenant_id,
                asset,
                scale,
                batch,
                catalogue,
                load=skip_bad_rows or not batch_bad,
                skip_bad_rows=skip_bad_rows,
            )
            report.imported += imported
            report.already_present += present
        bad = sorted([*batch_bad, *refused], key=lambda b: b.line)
        report.bad_rows += len(bad)
        room = POINTS_IMPORT_BAD_ROWS_LISTED_MAX - len(report.bad)
        report.bad.extend(bad[: max(room, 0)])
        if bad and not skip_bad_rows:
            report.batches_skipped += 1
        if on_rows is not None:
            on_rows(len(batch) + len(batch_bad))
        batch.clear()
        batch_bad.clear()

    for line, record in read_rows(stream):
        report.rows_read += 1
        try:
            batch.append(parse_row(line, record, scale, earn_reasons, spend_reasons, occurrence))
        except LedgerError as error:
            batch_bad.append(BadRow(line, error.message))
        if len(batch) + len(batch_bad) >= batch_size:
            flush()
    flush()
    return report


def _import_batch(  # noqa: PLR0915 - one transaction's plan, read top to bottom
    ledger: Ledger,
    tenant_id: str,
    asset: str,
    scale: int,
    rows: Sequence[ImportRow],
    catalogue: Mapping[tuple[str, str], Reason],
    *,
    load: bool,
    skip_bad_rows: bool,
) -> tuple[int, int, list[BadRow]]:
    """One batch in one transaction: (imported, already present, refused rows)."""
    store = store_of(ledger)
    policy = asset_policy(ledger, tenant_id, asset)
    holders = sorted({row.holder_id for row in rows})
    known = store.known_holders(tenant_id, asset, holders)
    for holder in holders:
        if holder not in known:
            ledger.create_account(tenant_id, holder_account_id(asset, holder), asset=asset)

    def use_case(work: UnitOfWork) -> tuple[int, int, list[BadRow]]:  # noqa: PLR0912, PLR0915
        store.lock_holders(work.unit, tenant_id, asset, holders, work.now)
        present = store.existing_transfer_ids(work.unit, tenant_id, [r.transfer_id for r in rows])
        if len(present) == len(rows):
            return 0, len(rows), []
        # Spends need their holders' lots; earns only need to know of a deficit to pay back.
        spenders = sorted({r.holder_id for r in rows if r.accum_type is Direction.SPEND})
        lots: dict[str, Lot] = {
            lot.lot_id: lot for lot in store.open_lots(work.unit, tenant_id, asset, spenders)
        }
        deficits = [deficit_lot_id(asset, h) for h in holders if h not in set(spenders)]
        lots.update(store.get_lots(work.unit, tenant_id, deficits) if deficits else {})
        by_holder: dict[str, list[str]] = {}
        for lot in lots.values():
            by_holder.setdefault(lot.holder_id, []).append(lot.lot_id)
        new_lots: list[Lot] = []
        changed: dict[str, Lot] = {}
        moves: list[tuple[str, str, int]] = []
        ops: list[Operation] = []
        refused: list[BadRow] = []
        for row in rows:
            if row.transfer_id in present:
                continue
            present.add(row.transfer_id)
            reason = catalogue[(row.accum_type.value, row.reason)]
            meta: dict[str, Any] = {"imported": True}
            if row.redemption_id is not None:
                meta["redemption_id"] = row.redemption_id
            if row.accum_type is Direction.EARN:
                lot = Lot(
                    row.transfer_id,
                    row.holder_id,
                    asset,
                    row.reason,
                    row.quantity_minor,
                    row.quantity_minor,
                    LotState.ACTIVE,
                    row.date,
                    row.date,
                    _policy_for(reason, policy).expires_at(row.date),
                    None,
                )
                mine = [lots[i] for i in by_holder.get(row.holder_id, [])]
                lot, deficit, taken = _cover_deficit(mine, lot)
                if deficit is not None and taken:
                    lots[deficit.lot_id] = changed[deficit.lot_id] = deficit
                    moves.extend(
                        [
                            (f"{lot.lot_id}.cover", lot.lot_id, -taken),
                            (f"{lot.lot_id}.cover", deficit.lot_id, taken),
                        ]
                    )
                lots[lot.lot_id] = lot
                by_holder.setdefault(row.holder_id, []).append(lot.lot_id)
                new_lots.append(lot)
                ops.append(
                    TransferRequest(
                        id=row.transfer_id,
                        debit_account_id=issuance_account_id(asset),
                        credit_account_id=holder_account_id(asset, row.holder_id),
                        asset=asset,
                        amount=str(Amount(row.quantity_minor, scale)),
                        kind=KIND_EARN,
                        reason=row.reason,
                        effective_at=row.date,
                        metadata=meta,
                    )
                )
                continue
            amount = -row.quantity_minor
            mine = [lots[i] for i in by_holder.get(row.holder_id, [])]
            plan, shortfall = plan_consumption(mine, amount, row.date)
            if shortfall and not reason.allow_negative:
                refused.append(
                    BadRow(
                        row.line,
                        f"{row.holder_id} has not enough points for this "
                        "spend at its date (insufficient_points).",
                    )
                )
                continue
            for lot_id, take in plan:
                lots[lot_id] = changed[lot_id] = replace(
                    lots[lot_id], remaining_minor=lots[lot_id].remaining_minor - take
                )
                moves.append((row.transfer_id, lot_id, -take))
            if shortfall:
                meta["negative_allowed"] = True
                deficit_id = deficit_lot_id(asset, row.holder_id)
                if deficit_id in lots:
                    lots[deficit_id] = changed[deficit_id] = replace(
                        lots[deficit_id],
                        remaining_minor=lots[deficit_id].remaining_minor - shortfall,
                    )
                else:
                    lots[deficit_id] = Lot(
                        deficit_id,
                        row.holder_id,
                        asset,
                        row.reason,
                        0,
                        -shortfall,
                        LotState.ACTIVE,
                        row.date,
                        row.date,
                        None,
                        None,
                        deficit=True,
                    )
                    new_lots.append(lots[deficit_id])
                    by_holder.setdefault(row.holder_id, []).append(deficit_id)
                moves.append((row.transfer_id, deficit_id, -shortfall))
            ops.append(
                TransferRequest(
                    id=row.transfer_id,
                    debit_account_id=holder_account_id(asset, row.holder_id),
                    credit_account_id=issuance_account_id(asset),
                    asset=asset,
                    amount=str(Amount(amount, scale)),
                    kind=KIND_SPEND,
                    reason=row.reason,
                    effective_at=row.date,
                    metadata=meta,
                )
            )
        if not load or (refused and not skip_bad_rows):
            return 0, 0, refused
        if ops:
            for result in work.submit(ops):
                raise_for_single(result)
        new_ids = {lot.lot_id for lot in new_lots}
        store.insert_lots(work.unit, tenant_id, [lots[i] for i in new_ids])
        store.update_lots(
            work.unit, tenant_id, [lot for i, lot in changed.items() if i not in new_ids]
        )
        store.insert_moves(work.unit, tenant_id, moves, work.now)
        return len(ops), len(rows) - len(ops) - len(refused), refused

    return ledger.run(tenant_id, use_case)
