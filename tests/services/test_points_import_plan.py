"""An import batch's plan is the per-row rules applied in file order: ``plan_import`` (which
keeps each holder's deficit lots apart, so that an earn looks only at those) plans exactly
what the plain reading of the rules does, for generated batches with spends, clawbacks that
open deficits, earns that pay them back, repeated ids, and ids that name a deficit lot."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewardledger.domain.points import (
    Direction,
    ExpiryKind,
    ExpiryPolicy,
    Lot,
    LotState,
    Reason,
    cover_deficit,
    deficit_lot_id,
    lot_policy,
    plan_spend,
)
from rewardledger.domain.points_import import ImportPlan, ImportPosting, ImportRow, plan_import

START = datetime(2025, 1, 1, tzinfo=UTC)
REASONS = {
    ("earn", "invoice"): Reason(Direction.EARN, "invoice"),
    ("spend", "ocr"): Reason(Direction.SPEND, "ocr"),
    ("spend", "clawback"): Reason(Direction.SPEND, "clawback", allow_negative=True),
}
POLICY = ExpiryPolicy(ExpiryKind.AFTER, days=30)
HOLDERS = ("a", "b", "c")
ACTIVE = LotState.ACTIVE


def _reference(rows: list[ImportRow], lots: list[Lot], present: set[str]) -> ImportPlan:
    """The rules row by row, each earn and spend given all of its holder's lots (a lot is its
    holder's from the first time it is seen, in the order first seen)."""
    current = {lot.lot_id: lot for lot in lots}
    owner = {lot.lot_id: lot.holder_id for lot in lots}
    plan = ImportPlan()
    seen = set(present)

    def keep(lot: Lot) -> None:
        owner.setdefault(lot.lot_id, lot.holder_id)
        current[lot.lot_id] = lot
        (plan.opened if lot.lot_id in plan.opened else plan.changed)[lot.lot_id] = lot

    def mine(holder: str) -> list[Lot]:
        return [lot for lot_id, lot in current.items() if owner[lot_id] == holder]

    for row in rows:
        if row.transfer_id in seen:
            continue
        seen.add(row.transfer_id)
        reason = REASONS[(row.accum_type.value, row.reason)]
        meta: dict[str, Any] = {"imported": True}
        if row.accum_type is Direction.EARN:
            expires = lot_policy(reason, POLICY).expires_at(row.date)
            q, date = row.quantity_minor, row.date
            lot = Lot(
                row.transfer_id, row.holder_id, "LUMIS", row.reason, q, q, ACTIVE, date, date,
                expires, None,
            )  # fmt: skip
            lot, deficit, moves = cover_deficit(mine(row.holder_id), lot)
            if deficit is not None:
                keep(deficit)
            plan.moves.extend(moves)
            plan.opened[lot.lot_id] = lot
            keep(lot)
        else:
            spend = plan_spend(
                mine(row.holder_id),
                -row.quantity_minor,
                row.date,
                movement_id=row.transfer_id,
                holder_id=row.holder_id,
                asset_code="LUMIS",
                reason=row.reason,
            )
            if spend.shortfall_minor and not reason.allow_negative:
                plan.refused.append((row.line, "refused"))
                continue
            for lot in spend.changed:
                keep(lot)
            if spend.opened is not None:
                plan.opened[spend.opened.lot_id] = spend.opened
                keep(spend.opened)
            plan.moves.extend(spend.moves)
            if spend.shortfall_minor:
                meta["negative_allowed"] = True
        plan.postings.append(ImportPosting(row, meta))
    return plan


def _batch(rng: random.Random, size: int) -> tuple[list[ImportRow], list[Lot], set[str]]:
    lots = []
    for n, holder in enumerate(rng.choices(HOLDERS, k=rng.randint(0, 6))):
        expires = START + timedelta(days=rng.randint(1, 60))
        left = rng.randint(1, 9)
        lots.append(
            Lot(f"old{n}", holder, "LUMIS", "invoice", 9, left, ACTIVE, START, START, expires, None)
        )
    if rng.random() < 0.5:  # a holder that owes points from an earlier batch
        holder = rng.choice(HOLDERS)
        owed = -rng.randint(1, 20)
        lot_id = deficit_lot_id("LUMIS", holder)
        lots.append(
            Lot(
                lot_id, holder, "LUMIS", "clawback", 0, owed, ACTIVE, START, START, None, None, True
            )
        )
    rows = []
    for line in range(2, size + 2):
        holder = rng.choice(HOLDERS)
        date = START + timedelta(days=rng.randint(0, 50), seconds=line)
        transfer_id = f"r{rng.randint(0, size)}"  # some ids repeat
        if rng.random() < 0.05:  # an id column naming a holder's deficit lot
            transfer_id = deficit_lot_id("LUMIS", rng.choice(HOLDERS))
        kind = rng.choice(["earn", "earn", "ocr", "clawback"])
        if kind == "earn":
            direction, reason, quantity = Direction.EARN, "invoice", rng.randint(1, 10)
        else:
            direction, reason, quantity = Direction.SPEND, kind, -rng.randint(1, 12)
        rows.append(ImportRow(line, holder, direction, reason, quantity, date, None, transfer_id))
    present = {f"r{n}" for n in range(size) if rng.random() < 0.1}
    return rows, lots, present


@pytest.mark.parametrize("seed", range(60))
def test_the_batch_plan_is_the_rules_row_by_row(seed: int) -> None:
    rng = random.Random(seed)
    rows, lots, present = _batch(rng, rng.randint(1, 40))
    planned = plan_import(
        rows, asset_code="LUMIS", lots=lots, present=present, reasons=REASONS, policy=POLICY
    )
    expected = _reference(rows, lots, present)
    assert planned.postings == expected.postings
    assert planned.opened == expected.opened
    assert planned.changed == expected.changed
    assert planned.moves == expected.moves
    assert [line for line, _ in planned.refused] == [line for line, _ in expected.refused]
