"""Importing a points history: the checked row, its derived id, and the plan of a batch.

Owns: what a batch of the seed's rows writes, decided with no I/O. ``plan_import`` is handed
the rows, the ids already in the journal and the holders' lots as read under their locks,
and returns the lots to open and change, the lot moves and the rows to post, or the rows it
refuses. Protects the points invariant across an import exactly as a live earn or spend does
(the same ``plan_spend`` and ``cover_deficit``): balance == rows == lots' remainders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rewardledger.domain.points import (
    Direction,
    ExpiryPolicy,
    Lot,
    LotState,
    Move,
    Reason,
    cover_deficit,
    lot_policy,
    plan_spend,
)

IMPORT_KIND_PREFIX = "imp"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row of a points history file (the seed's shape), checked."""

    line: int
    holder_id: str
    accum_type: Direction
    reason: str
    quantity_minor: int  # signed, as in the seed: > 0 earn, < 0 spend
    date: datetime
    redemption_id: str | None
    transfer_id: str


def import_transfer_id(fields: Sequence[str], occurrence: int) -> str:
    """A row's transfer id, the same whatever file or line it comes from.

    A hash of the row's own fields and its occurrence number among identical rows with the same
    date, so that importing the file again (or another file with the row) finds it.
    """
    digest = hashlib.sha256("\x1f".join([*fields, str(occurrence)]).encode()).hexdigest()
    return f"{IMPORT_KIND_PREFIX}.{digest[:32]}"


@dataclass(frozen=True, slots=True)
class ImportPosting:
    """A row to post: the row and the metadata its journal row carries."""

    row: ImportRow
    metadata: dict[str, Any]


@dataclass(slots=True)
class ImportPlan:
    """What one batch writes (``postings`` in file order), and the rows it refuses."""

    postings: list[ImportPosting] = field(default_factory=list)
    opened: dict[str, Lot] = field(default_factory=dict)  # new lots, by id, as they end
    changed: dict[str, Lot] = field(default_factory=dict)  # lots read, as they end
    moves: list[Move] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def plan_import(
    rows: Sequence[ImportRow],
    *,
    asset_code: str,
    lots: Iterable[Lot],
    present: set[str],
    reasons: Mapping[tuple[str, str], Reason],
    policy: ExpiryPolicy,
) -> ImportPlan:
    """Plan a batch: rows whose id is in ``present`` (or seen earlier in the batch) are left
    out; an earn opens an active lot (paying back its holder's deficit first); a spend takes
    from its holder's lots at the row's date, or is refused if they do not cover it and its
    reason does not allow a negative balance. ``lots``: the holders' open lots."""
    planner = _Planner(asset_code, policy, {lot.lot_id: lot for lot in lots})
    seen = set(present)
    earn = Direction.EARN
    reason_of = _ReasonOf(reasons)
    for row in rows:
        if row.transfer_id in seen:
            continue
        seen.add(row.transfer_id)
        reason = reason_of(row.accum_type, row.reason)
        if row.accum_type is earn:
            planner.earn(row, reason)
        else:
            planner.spend(row, reason)
    return planner.plan


class _ReasonOf:
    """``reasons[(direction's value, reason)]``, each pair looked up once per batch (an enum's
    ``.value`` is a descriptor call; a batch repeats a few pairs thousands of times)."""

    __slots__ = ("_found", "_reasons")

    def __init__(self, reasons: Mapping[tuple[str, str], Reason]) -> None:
        self._reasons = reasons
        self._found: dict[tuple[Direction, str], Reason] = {}

    def __call__(self, direction: Direction, reason: str) -> Reason:
        key = (direction, reason)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._reasons[(direction.value, reason)]
        return found


class _Planner:
    """The lots of a batch's holders as the rows planned so far leave them."""

    def __init__(self, asset_code: str, policy: ExpiryPolicy, lots: dict[str, Lot]) -> None:
        self.asset_code = asset_code
        self.policy = policy
        self.lots = lots
        self.by_holder: dict[str, list[str]] = {}
        # Each holder's deficit lots, in the order of ``by_holder``: all an earn looks at.
        self.deficits: dict[str, list[str]] = {}
        for lot in lots.values():
            self._add(lot)
        self.plan = ImportPlan()

    def _add(self, lot: Lot) -> None:
        self.by_holder.setdefault(lot.holder_id, []).append(lot.lot_id)
        if lot.deficit:
            self.deficits.setdefault(lot.holder_id, []).append(lot.lot_id)

    def _now_deficit(self, lot_id: str) -> None:
        """A lot id seen first as an earn's lot, now a deficit lot (an ``id`` column may name a
        lot so): it joins its holder's deficit lots where ``by_holder`` has it."""
        for holder_id, ids in self.by_holder.items():
            if lot_id in ids:
                known = {*self.deficits.get(holder_id, ()), lot_id}
                self.deficits[holder_id] = [i for i in ids if i in known]

    def _mine(self, holder_id: str) -> list[Lot]:
        return [self.lots[lot_id] for lot_id in self.by_holder.get(holder_id, ())]

    def _keep(self, lot: Lot) -> None:
        before = self.lots.get(lot.lot_id)
        if before is None:
            self._add(lot)
        elif lot.deficit and not before.deficit:
            self._now_deficit(lot.lot_id)
        self.lots[lot.lot_id] = lot
        target = self.plan.opened if lot.lot_id in self.plan.opened else self.plan.changed
        target[lot.lot_id] = lot

    def _open(self, lot: Lot) -> None:
        self.plan.opened[lot.lot_id] = lot
        self._keep(lot)

    @staticmethod
    def _metadata(row: ImportRow) -> dict[str, Any]:
        meta: dict[str, Any] = {"imported": True}
        if row.redemption_id is not None:
            meta["redemption_id"] = row.redemption_id
        return meta

    def earn(self, row: ImportRow, reason: Reason) -> None:
        lot = Lot(
            row.transfer_id,
            row.holder_id,
            self.asset_code,
            row.reason,
            row.quantity_minor,
            row.quantity_minor,
            LotState.ACTIVE,
            row.date,
            row.date,
            lot_policy(reason, self.policy).expires_at(row.date),
            None,
        )
        # ``cover_deficit`` looks only at deficit lots: given just those, in the same order.
        found = self.deficits.get(row.holder_id, ())
        lot, deficit, moves = cover_deficit([self.lots[lot_id] for lot_id in found], lot)
        if deficit is not None:
            self._keep(deficit)
        self.plan.moves.extend(moves)
        self._open(lot)
        self.plan.postings.append(ImportPosting(row, self._metadata(row)))

    def spend(self, row: ImportRow, reason: Reason) -> None:
        spend = plan_spend(
            self._mine(row.holder_id),
            -row.quantity_minor,
            row.date,
            movement_id=row.transfer_id,
            holder_id=row.holder_id,
            asset_code=self.asset_code,
            reason=row.reason,
        )
        if spend.shortfall_minor and not reason.allow_negative:
            self.plan.refused.append(
                (
                    row.line,
                    f"{row.holder_id} has not enough points for this spend at its date "
                    "(insufficient_points).",
                )
            )
            return
        for lot in spend.changed:
            self._keep(lot)
        if spend.opened is not None:
            self._open(spend.opened)
        self.plan.moves.extend(spend.moves)
        meta = self._metadata(row)
        if spend.shortfall_minor:
            meta["negative_allowed"] = True
        self.plan.postings.append(ImportPosting(row, meta))
