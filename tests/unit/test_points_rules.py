"""The pure rules of points (issue 4): expiry policies, consumption order, codes, import ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.points import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Direction,
    ExpiryKind,
    ExpiryPolicy,
    Lot,
    LotState,
    Reason,
    Rounding,
    is_expired,
    make_code,
    normalise_code,
    plan_consumption,
    seed_reasons,
)
from rewardledger.domain.points_import import import_transfer_id

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def lot(lot_id: str, remaining: int, *, days: int | None, age_days: int = 0) -> Lot:
    earned = NOW - timedelta(days=age_days)
    expires = None if days is None else NOW + timedelta(days=days)
    return Lot(
        lot_id,
        "u1",
        "LUMIS",
        "invoice",
        remaining,
        remaining,
        LotState.ACTIVE,
        earned,
        earned,
        expires,
        None,
    )


def test_the_catalogue_starts_with_the_seed_reasons() -> None:
    codes = {(r.direction.value, r.code) for r in seed_reasons()}
    assert ("earn", "invoice") in codes
    assert ("earn", "ocr_refund") in codes
    assert ("spend", "legacy_reward") in codes
    assert ("earn", "points") in codes  # the seed's gamification awards
    assert len(codes) == 10


def test_after_policy_counts_days_from_activation_and_rounds_up() -> None:
    assert ExpiryPolicy(ExpiryKind.AFTER, days=10).expires_at(NOW) == NOW + timedelta(days=10)
    month = ExpiryPolicy(ExpiryKind.AFTER, days=20, rounding=Rounding.END_OF_MONTH)
    assert month.expires_at(NOW) == datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC)
    year = ExpiryPolicy(ExpiryKind.AFTER, days=1, rounding=Rounding.END_OF_YEAR)
    assert year.expires_at(NOW) == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_fixed_and_none_policies() -> None:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    assert ExpiryPolicy(ExpiryKind.FIXED, at=at).expires_at(NOW) == at
    assert ExpiryPolicy().expires_at(NOW) is None


def test_a_policy_round_trips_through_json() -> None:
    policy = ExpiryPolicy(ExpiryKind.AFTER, days=30, rounding=Rounding.END_OF_MONTH)
    assert ExpiryPolicy.from_json(policy.to_json()) == policy


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExpiryPolicy(ExpiryKind.AFTER),
        lambda: ExpiryPolicy(ExpiryKind.AFTER, days=0),
        lambda: ExpiryPolicy(ExpiryKind.FIXED),
        lambda: ExpiryPolicy(ExpiryKind.NONE, days=3),
    ],
)
def test_incomplete_policies_are_refused(make: object) -> None:
    with pytest.raises(ValidationError):
        make()  # type: ignore[operator]


def test_reason_settings_apply_to_their_direction_only() -> None:
    with pytest.raises(ValidationError):
        Reason(Direction.EARN, "bonus", allow_negative=True)
    with pytest.raises(ValidationError):
        Reason(Direction.SPEND, "ocr", pending_seconds=60)
    with pytest.raises(ValidationError):
        Reason(Direction.EARN, "x", pending_seconds=60, pending_until_activated=True)
    with pytest.raises(ValidationError):
        Reason(Direction.EARN, "Not A Code")


def test_consumption_takes_soonest_expiry_first_then_oldest_and_never_expiring_last() -> None:
    lots = [
        lot("never", 10, days=None, age_days=9),
        lot("late", 10, days=30, age_days=5),
        lot("early-young", 10, days=3, age_days=1),
        lot("early-old", 10, days=3, age_days=2),
    ]
    plan, shortfall = plan_consumption(lots, 35, NOW)
    assert plan == [("early-old", 10), ("early-young", 10), ("late", 10), ("never", 5)]
    assert shortfall == 0


def test_consumption_skips_expired_and_pending_lots_and_reports_the_shortfall() -> None:
    expired = lot("gone", 10, days=-1)
    pending = Lot(
        "wait", "u1", "LUMIS", "purchase", 10, 10, LotState.PENDING, NOW, None, None, None
    )
    plan, shortfall = plan_consumption([expired, pending, lot("ok", 4, days=5)], 6, NOW)
    assert (plan, shortfall) == ([("ok", 4)], 2)
    assert is_expired(expired, NOW)
    assert not is_expired(lot("ok", 4, days=5), NOW)


def test_codes_use_crockford_base32_and_typing_is_forgiving() -> None:
    code = make_code(bytes(range(40, 50)))
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert normalise_code("ab-cd e0o1il") == "ABCDE00111"
    with pytest.raises(ValidationError):
        normalise_code("ABCDEU0000")  # U is not in the alphabet
    with pytest.raises(ValidationError):
        normalise_code("short")


def test_import_ids_depend_on_the_row_and_its_occurrence_only() -> None:
    row = ("7", "earn", "invoice", "100", "2025-12-01T10:00:00+00:00", "")
    assert import_transfer_id(row, 1) == import_transfer_id(row, 1)
    assert import_transfer_id(row, 1) != import_transfer_id(row, 2)
    assert import_transfer_id(row, 1) != import_transfer_id((*row[:3], "101", *row[4:]), 1)
