"""The points service: earn lots, spend order, expiry, pending points, accumulations (issue 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rewardledger.domain.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    NotFound,
    PointsNotPending,
    ValidationError,
)
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason, Rounding
from rewardledger.ledger.engine import Ledger
from rewardledger.services import jobs, points
from tests.builders import FakeClock
from tests.conftest import owner_engine

THIRTY_DAYS = ExpiryPolicy(ExpiryKind.AFTER, days=30)


@pytest.fixture
def lumis(ledger: Ledger, tenant_id: str) -> str:
    points.configure(
        ledger,
        tenant_id,
        "LUMIS",
        expiry=THIRTY_DAYS,
        reasons=[
            Reason(Direction.SPEND, "clawback", allow_negative=True),
            Reason(Direction.EARN, "purchase", pending_until_activated=True),
            Reason(Direction.EARN, "return_window", pending_seconds=3600),
            Reason(Direction.EARN, "promo", expiry=ExpiryPolicy(ExpiryKind.AFTER, days=5)),
            Reason(Direction.EARN, "forever", expiry=ExpiryPolicy()),
        ],
    )
    return "LUMIS"


def _balance(ledger: Ledger, tenant_id: str, holder: str = "u1") -> int:
    return points.balance(ledger, tenant_id, holder).balance.minor


def _check_invariant(ledger: Ledger, tenant_id: str) -> None:
    assert points.validate(ledger, tenant_id) == []


def test_earn_credits_the_holder_and_creates_a_lot(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    moved = points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    assert str(moved.quantity) == "100"
    assert _balance(ledger, tenant_id) == 100
    assert [(d, str(a)) for d, a in points.expiring(ledger, tenant_id, "u1")] == [
        (datetime(2026, 4, 14, 12, 0, tzinfo=UTC), "100")
    ]
    _check_invariant(ledger, tenant_id)


def test_earn_replayed_with_same_reference_changes_nothing(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    again = points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    assert again.replayed
    assert _balance(ledger, tenant_id) == 100
    with pytest.raises(IdempotencyConflict):
        points.earn(ledger, tenant_id, "u1", "99", dtype="invoice", reference="e1")
    _check_invariant(ledger, tenant_id)


def test_unknown_reason_is_a_validation_error(ledger: Ledger, tenant_id: str, lumis: str) -> None:
    with pytest.raises(ValidationError):
        points.earn(ledger, tenant_id, "u1", "1", dtype="lottery", reference="e1")
    with pytest.raises(ValidationError):
        points.spend(ledger, tenant_id, "u1", "1", dtype="invoice", reference="s1")


def test_amounts_must_be_positive(ledger: Ledger, tenant_id: str, lumis: str) -> None:
    with pytest.raises(ValidationError):
        points.earn(ledger, tenant_id, "u1", "-5", dtype="invoice", reference="e1")
    with pytest.raises(ValidationError):
        points.earn(ledger, tenant_id, "u1", "1.5", dtype="invoice", reference="e1")


def test_spend_above_balance_is_insufficient_points_and_writes_nothing(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="invoice", reference="e1")
    with pytest.raises(InsufficientPoints):
        points.spend(ledger, tenant_id, "u1", "11", dtype="ocr", reference="s1")
    assert _balance(ledger, tenant_id) == 10
    assert len(points.accumulations(ledger, tenant_id, "u1").rows) == 1


def test_spend_consumes_soonest_expiry_first_then_oldest(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="forever", reference="never")
    points.earn(ledger, tenant_id, "u1", "10", dtype="invoice", reference="old30")
    clock.advance(days=1)
    points.earn(ledger, tenant_id, "u1", "10", dtype="invoice", reference="new30")
    points.earn(ledger, tenant_id, "u1", "10", dtype="promo", reference="soon5")
    moved = points.spend(ledger, tenant_id, "u1", "25", dtype="points", reference="s1")
    assert [(lot, str(a)) for lot, a in moved.lots] == [
        ("soon5", "10"),
        ("old30", "10"),
        ("new30", "5"),
    ]
    moved = points.spend(ledger, tenant_id, "u1", "10", dtype="points", reference="s2")
    assert [(lot, str(a)) for lot, a in moved.lots] == [("new30", "5"), ("never", "5")]
    assert _balance(ledger, tenant_id) == 5
    _check_invariant(ledger, tenant_id)


def test_spend_replayed_returns_first_result_and_other_amount_conflicts(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="invoice", reference="e1")
    points.spend(ledger, tenant_id, "u1", "4", dtype="ocr", reference="s1")
    again = points.spend(ledger, tenant_id, "u1", "4", dtype="ocr", reference="s1")
    assert again.replayed
    assert [(lot, str(a)) for lot, a in again.lots] == [("e1", "4")]
    assert _balance(ledger, tenant_id) == 6
    with pytest.raises(IdempotencyConflict):
        points.spend(ledger, tenant_id, "u1", "5", dtype="ocr", reference="s1")


def test_reason_allowing_negative_takes_balance_below_zero_and_flags_the_row(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="invoice", reference="e1")
    moved = points.spend(ledger, tenant_id, "u1", "15", dtype="clawback", reference="c1")
    assert moved.negative_allowed
    assert _balance(ledger, tenant_id) == -5
    row = points.accumulations(ledger, tenant_id, "u1").rows[0]
    assert row.negative_allowed
    assert str(row.balance) == "-5"
    _check_invariant(ledger, tenant_id)
    # The next earn pays the deficit first: only 3 of 8 are spendable.
    points.earn(ledger, tenant_id, "u1", "8", dtype="invoice", reference="e2")
    assert _balance(ledger, tenant_id) == 3
    with pytest.raises(InsufficientPoints):
        points.spend(ledger, tenant_id, "u1", "4", dtype="ocr", reference="s1")
    points.spend(ledger, tenant_id, "u1", "3", dtype="ocr", reference="s2")
    _check_invariant(ledger, tenant_id)


def test_expiry_posts_one_expire_row_per_lot_exactly_once(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="promo", reference="p1")
    points.earn(ledger, tenant_id, "u1", "20", dtype="promo", reference="p2")
    points.earn(ledger, tenant_id, "u1", "30", dtype="invoice", reference="i1")
    points.spend(ledger, tenant_id, "u1", "12", dtype="ocr", reference="s1")
    clock.advance(days=6)
    first = jobs.run_due_jobs(ledger, tenant_id)
    second = jobs.run_due_jobs(ledger, tenant_id)
    assert first.steps["points"]["lots_expired"] == 1  # p1 was spent out; p2 has 18 left
    assert second.steps["points"]["lots_expired"] == 0
    assert _balance(ledger, tenant_id) == 30
    expired = points.accumulations(ledger, tenant_id, "u1", accum_type="expire").rows
    assert [(r.id, str(r.quantity)) for r in expired] == [("p2.expire", "-18")]
    _check_invariant(ledger, tenant_id)


def test_expiring_forecast_groups_points_by_date(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="promo", reference="p1")
    points.earn(ledger, tenant_id, "u1", "5", dtype="promo", reference="p2")
    points.earn(ledger, tenant_id, "u1", "7", dtype="invoice", reference="i1")
    points.earn(ledger, tenant_id, "u1", "9", dtype="forever", reference="f1")
    start = clock.now
    assert [(d, str(a)) for d, a in points.expiring(ledger, tenant_id, "u1")] == [
        (start + timedelta(days=5), "15"),
        (start + timedelta(days=30), "7"),
    ]


def test_expiry_rounded_to_end_of_month(ledger: Ledger, tenant_id: str, clock: FakeClock) -> None:
    points.configure(
        ledger,
        tenant_id,
        "PTS",
        expiry=ExpiryPolicy(ExpiryKind.AFTER, days=1, rounding=Rounding.END_OF_MONTH),
    )
    points.earn(ledger, tenant_id, "u1", "3", dtype="invoice", reference="e1", asset="PTS")
    [(moment, _)] = points.expiring(ledger, tenant_id, "u1", asset="PTS")
    assert moment == datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)


def test_pending_points_are_visible_not_spendable_until_activated(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    moved = points.earn(ledger, tenant_id, "u1", "50", dtype="purchase", reference="order-1")
    assert moved.pending
    view = points.balance(ledger, tenant_id, "u1")
    assert (view.balance.minor, view.pending.minor) == (0, 50)
    with pytest.raises(InsufficientPoints):
        points.spend(ledger, tenant_id, "u1", "1", dtype="ocr", reference="s1")
    assert points.expiring(ledger, tenant_id, "u1") == []
    clock.advance(days=10)
    points.activate(ledger, tenant_id, "order-1")
    view = points.balance(ledger, tenant_id, "u1")
    assert (view.balance.minor, view.pending.minor) == (50, 0)
    # The expiry clock starts at activation, not at the earn.
    assert [d for d, _ in points.expiring(ledger, tenant_id, "u1")] == [
        clock.now + timedelta(days=30)
    ]
    assert points.activate(ledger, tenant_id, "order-1").replayed
    with pytest.raises(PointsNotPending):
        points.cancel_pending(ledger, tenant_id, "order-1")
    _check_invariant(ledger, tenant_id)


def test_cancelled_pending_points_are_never_credited(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "50", dtype="purchase", reference="order-1")
    points.cancel_pending(ledger, tenant_id, "order-1")
    view = points.balance(ledger, tenant_id, "u1")
    assert (view.balance.minor, view.pending.minor) == (0, 0)
    with pytest.raises(PointsNotPending):
        points.activate(ledger, tenant_id, "order-1")
    with pytest.raises(NotFound):
        points.activate(ledger, tenant_id, "no-such-order")
    _check_invariant(ledger, tenant_id)


def test_points_pending_for_a_duration_activate_in_the_due_jobs(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "40", dtype="return_window", reference="r1")
    assert jobs.run_due_jobs(ledger, tenant_id).steps["points"]["points_activated"] == 0
    clock.advance(seconds=3600)
    assert jobs.run_due_jobs(ledger, tenant_id).steps["points"]["points_activated"] == 1
    assert jobs.run_due_jobs(ledger, tenant_id).steps["points"]["points_activated"] == 0
    assert _balance(ledger, tenant_id) == 40
    _check_invariant(ledger, tenant_id)


def test_accumulations_have_the_seed_shape_and_running_balances(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    clock.advance(minutes=1)
    points.spend(ledger, tenant_id, "u1", "30", dtype="ocr", reference="s1")
    clock.advance(minutes=1)
    points.earn(ledger, tenant_id, "u1", "5", dtype="streak", reference="e2")
    page = points.accumulations(ledger, tenant_id, "u1")
    assert [(r.accum_type, r.dtype, str(r.quantity), str(r.balance)) for r in page.rows] == [
        ("earn", "streak", "5", "75"),
        ("spend", "ocr", "-30", "70"),
        ("earn", "invoice", "100", "100"),
    ]
    assert page.rows[0].date == clock.now
    assert page.rows[0].user_id == "u1"
    first = points.accumulations(ledger, tenant_id, "u1", limit=2)
    assert first.next_cursor is not None
    rest = points.accumulations(ledger, tenant_id, "u1", limit=2, cursor=first.next_cursor)
    assert [r.id for r in rest.rows] == ["e1"]
    spends = points.accumulations(ledger, tenant_id, "u1", accum_type="spend")
    assert [r.id for r in spends.rows] == ["s1"]
    since = points.accumulations(ledger, tenant_id, "u1", since=clock.now - timedelta(seconds=30))
    assert [r.id for r in since.rows] == ["e2"]


def test_balance_as_of_a_past_time(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    before = clock.now
    clock.advance(hours=1)
    points.spend(ledger, tenant_id, "u1", "30", dtype="ocr", reference="s1")
    assert points.balance(ledger, tenant_id, "u1", at=before).balance.minor == 100
    assert points.balance(ledger, tenant_id, "u1").latest_update == clock.now


def test_summary_reports_each_holder_in_the_seed_shape(
    ledger: Ledger, tenant_id: str, lumis: str, clock: FakeClock
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="promo", reference="p1")
    points.earn(ledger, tenant_id, "u2", "7", dtype="invoice", reference="i1")
    points.spend(ledger, tenant_id, "u1", "4", dtype="ocr", reference="s1")
    clock.advance(days=6)
    jobs.run_due_jobs(ledger, tenant_id)
    lines = {line.user_id: line for line in points.summary(ledger, tenant_id)}
    u1 = lines["u1"]
    assert (str(u1.earned), str(u1.spent), str(u1.expired), str(u1.balance), u1.rows) == (
        "10",
        "4",
        "6",
        "0",
        3,
    )
    assert u1.integrity_status == "OK"
    assert lines["u2"].integrity_status == "OK"


def test_validate_finds_a_damaged_balance_and_fix_rebuilds_it(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "10", dtype="invoice", reference="e1")
    engine = owner_engine(ledger)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE accounts SET credits_posted = 99 WHERE tenant_id = "
            f"'{tenant_id}' AND account_id = 'pts:LUMIS:u1'"
        )
    [bad] = points.validate(ledger, tenant_id)
    assert bad.user_id == "u1"
    assert bad.integrity_status == "MISMATCH"
    report = points.fix(ledger, tenant_id, actor="ops")
    assert report.repair.changes
    assert report.still_mismatched == []
    assert points.validate(ledger, tenant_id) == []


def test_points_that_were_never_pending_cannot_be_activated(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.earn(ledger, tenant_id, "u1", "5", dtype="invoice", reference="e1")
    with pytest.raises(PointsNotPending):
        points.activate(ledger, tenant_id, "e1")
