"""The pure plans of points: a spend's deficit, refund forfeiture and an import batch's plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rewardledger.domain.points import (
    Direction,
    ExpiryPolicy,
    Lot,
    LotState,
    Reason,
    cover_deficit,
    deficit_lot_id,
    plan_refund,
    plan_spend,
)
from rewardledger.domain.points_import import ImportRow, plan_import

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _lot(lot_id: str, remaining: int, *, expires_at: datetime | None = None) -> Lot:
    return Lot(
        lot_id,
        "u1",
        "LUMIS",
        "invoice",
        remaining,
        remaining,
        LotState.ACTIVE,
        NOW,
        NOW,
        expires_at,
        None,
    )


def test_a_covered_spend_opens_no_deficit() -> None:
    plan = plan_spend(
        [_lot("a", 5)],
        3,
        NOW,
        movement_id="s1",
        holder_id="u1",
        asset_code="LUMIS",
        reason="points",
    )
    assert (plan.shortfall_minor, plan.opened) == (0, None)
    assert plan.moves == [("s1", "a", -3)]


def test_an_uncovered_spend_opens_the_holders_deficit_lot_with_the_shortfall() -> None:
    plan = plan_spend(
        [_lot("a", 5)],
        8,
        NOW,
        movement_id="s1",
        holder_id="u1",
        asset_code="LUMIS",
        reason="clawback",
    )
    assert plan.shortfall_minor == 3
    assert plan.available_minor == 5
    assert plan.opened is not None
    assert plan.opened.deficit
    assert plan.opened.lot_id == deficit_lot_id("LUMIS", "u1")
    assert plan.opened.remaining_minor == -3
    assert plan.moves == [("s1", "a", -5), ("s1", plan.opened.lot_id, -3)]


def test_a_second_uncovered_spend_lowers_the_deficit_lot_it_has() -> None:
    first = plan_spend(
        [], 2, NOW, movement_id="s1", holder_id="u1", asset_code="LUMIS", reason="clawback"
    )
    assert first.opened is not None
    second = plan_spend(
        [first.opened],
        4,
        NOW,
        movement_id="s2",
        holder_id="u1",
        asset_code="LUMIS",
        reason="clawback",
    )
    assert second.opened is None
    assert [lot.remaining_minor for lot in second.changed] == [-6]


def test_a_new_lot_pays_back_the_deficit_first() -> None:
    deficit = plan_spend(
        [], 3, NOW, movement_id="s1", holder_id="u1", asset_code="LUMIS", reason="clawback"
    ).opened
    assert deficit is not None
    lot, after, moves = cover_deficit([deficit], _lot("e1", 10))
    assert lot.remaining_minor == 7
    assert after is not None
    assert after.remaining_minor == 0
    assert moves == [("e1.cover", "e1", -3), ("e1.cover", deficit.lot_id, 3)]
    assert cover_deficit([], _lot("e2", 10)) == (_lot("e2", 10), None, [])


def test_a_refund_gives_back_to_live_lots_and_forfeits_what_came_from_expired_ones() -> None:
    live = _lot("live", 0, expires_at=NOW + timedelta(days=1))
    gone = _lot("gone", 0, expires_at=NOW - timedelta(seconds=1))
    cancelled = Lot("c", "u1", "LUMIS", "invoice", 4, 0, LotState.EXPIRED, NOW, NOW, None, None)
    plan = plan_refund(
        [("live", 5), ("gone", 2), ("c", 1)],
        {"live": live, "gone": gone, "c": cancelled},
        NOW,
        movement_id="r1",
    )
    assert (plan.refunded_minor, plan.forfeited_minor) == (5, 3)
    assert plan.moves == [("r1", "live", 5)]
    assert [lot.remaining_minor for lot in plan.changed] == [5]


def _row(line: int, direction: Direction, reason: str, quantity: int, tid: str) -> ImportRow:
    return ImportRow(
        line, "u1", direction, reason, quantity, NOW + timedelta(minutes=line), None, tid
    )


REASONS = {
    ("earn", "invoice"): Reason(Direction.EARN, "invoice"),
    ("spend", "points"): Reason(Direction.SPEND, "points"),
    ("spend", "clawback"): Reason(Direction.SPEND, "clawback", allow_negative=True),
}


def test_the_import_plan_opens_lots_takes_spends_and_refuses_uncovered_ones() -> None:
    rows = [
        _row(1, Direction.EARN, "invoice", 5, "e1"),
        _row(2, Direction.SPEND, "points", -3, "s1"),
        _row(3, Direction.SPEND, "points", -9, "s2"),
        _row(4, Direction.EARN, "invoice", 5, "e1"),  # the same id again: left out
        _row(5, Direction.EARN, "invoice", 1, "old"),  # in the journal already
    ]
    plan = plan_import(
        rows, asset_code="LUMIS", lots=[], present={"old"}, reasons=REASONS, policy=ExpiryPolicy()
    )
    assert [p.row.transfer_id for p in plan.postings] == ["e1", "s1"]
    assert plan.refused == [
        (3, "u1 has not enough points for this spend at its date (insufficient_points).")
    ]
    assert {i: lot.remaining_minor for i, lot in plan.opened.items()} == {"e1": 2}
    assert plan.moves == [("s1", "e1", -3)]
    assert plan.changed == {}


def test_the_import_plan_flags_a_clawback_and_a_later_earn_pays_its_deficit() -> None:
    rows = [
        _row(1, Direction.SPEND, "clawback", -4, "c1"),
        _row(2, Direction.EARN, "invoice", 10, "e1"),
    ]
    plan = plan_import(
        rows, asset_code="LUMIS", lots=[], present=set(), reasons=REASONS, policy=ExpiryPolicy()
    )
    assert plan.postings[0].metadata == {"imported": True, "negative_allowed": True}
    deficit = deficit_lot_id("LUMIS", "u1")
    assert {i: lot.remaining_minor for i, lot in plan.opened.items()} == {deficit: 0, "e1": 6}
    assert plan.moves[-2:] == [("e1.cover", "e1", -4), ("e1.cover", deficit, 4)]
