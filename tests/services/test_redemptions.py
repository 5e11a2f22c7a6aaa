"""Redemptions: codes, QR images, confirm once, cancel and expiry with one refund (issue 4)."""

from __future__ import annotations

import pytest

from rewardledger.domain.errors import (
    AlreadyRedeemed,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidRedemptionState,
    NotFound,
    ValidationError,
)
from rewardledger.domain.points import CODE_ALPHABET, CODE_LENGTH, ExpiryKind, ExpiryPolicy
from rewardledger.ledger.engine import Ledger
from rewardledger.services import jobs, points, redemptions
from tests.builders import FakeClock


@pytest.fixture
def holder(ledger: Ledger, tenant_id: str) -> str:
    points.configure(ledger, tenant_id, "LUMIS", expiry=ExpiryPolicy(ExpiryKind.AFTER, days=30))
    points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    return "u1"


def _balance(ledger: Ledger, tenant_id: str) -> int:
    return points.balance(ledger, tenant_id, "u1").balance.minor


def test_redemption_spends_its_cost_linked_by_redemption_id_and_issues_a_code(
    ledger: Ledger, tenant_id: str, holder: str
) -> None:
    made = redemptions.create(
        ledger, tenant_id, holder, offer_id="coffee", cost="40", reference="red-1"
    )
    assert made.state.value == "pending"
    assert len(made.code) == CODE_LENGTH
    assert set(made.code) <= set(CODE_ALPHABET)
    assert _balance(ledger, tenant_id) == 60
    row = points.accumulations(ledger, tenant_id, holder).rows[0]
    assert (row.accum_type, row.dtype, str(row.quantity), row.redemption_id) == (
        "spend",
        "points",
        "-40",
        "red-1",
    )
    again = redemptions.create(
        ledger, tenant_id, holder, offer_id="coffee", cost="40", reference="red-1"
    )
    assert again.replayed
    assert again.code == made.code
    assert _balance(ledger, tenant_id) == 60
    with pytest.raises(IdempotencyConflict):
        redemptions.create(ledger, tenant_id, holder, offer_id="tea", cost="40", reference="red-1")


def test_codes_are_unique(ledger: Ledger, tenant_id: str, holder: str) -> None:
    codes = {
        redemptions.create(
            ledger, tenant_id, holder, offer_id="o", cost="1", reference=f"r{i}"
        ).code
        for i in range(30)
    }
    assert len(codes) == 30


def test_redemption_above_balance_is_insufficient_points(
    ledger: Ledger, tenant_id: str, holder: str
) -> None:
    with pytest.raises(InsufficientPoints):
        redemptions.create(ledger, tenant_id, holder, offer_id="tv", cost="101", reference="r")
    with pytest.raises(NotFound):
        redemptions.get(ledger, tenant_id, "r")


def test_confirm_succeeds_once_then_already_redeemed(
    ledger: Ledger, tenant_id: str, holder: str
) -> None:
    made = redemptions.create(ledger, tenant_id, holder, offer_id="o", cost="10", reference="r")
    typed = made.code[:5].lower() + "-" + made.code[5:]
    confirmed = redemptions.confirm(ledger, tenant_id, typed, actor="till-1")
    assert confirmed.state.value == "confirmed"
    assert confirmed.resolved_by == "till-1"
    with pytest.raises(AlreadyRedeemed):
        redemptions.confirm(ledger, tenant_id, made.code, actor="till-2")
    with pytest.raises(InvalidRedemptionState):
        redemptions.cancel(ledger, tenant_id, "r", actor="ops")
    assert _balance(ledger, tenant_id) == 90


def test_unknown_or_malformed_code_is_refused(ledger: Ledger, tenant_id: str, holder: str) -> None:
    with pytest.raises(NotFound):
        redemptions.confirm(ledger, tenant_id, "0000000000", actor="till")
    with pytest.raises(ValidationError):
        redemptions.confirm(ledger, tenant_id, "short", actor="till")


def test_cancel_refunds_once_to_the_original_lots(
    ledger: Ledger, tenant_id: str, holder: str, clock: FakeClock
) -> None:
    clock.advance(days=1)
    points.earn(ledger, tenant_id, holder, "50", dtype="invoice", reference="e2")
    redemptions.create(ledger, tenant_id, holder, offer_id="o", cost="120", reference="r")
    assert [str(a) for _, a in points.expiring(ledger, tenant_id, holder)] == ["30"]
    cancelled = redemptions.cancel(ledger, tenant_id, "r", actor="ops")
    assert cancelled.state.value == "cancelled"
    assert str(cancelled.refunded) == "120"
    assert _balance(ledger, tenant_id) == 150
    # The points are back in their lots with their original expiry dates.
    assert [str(a) for _, a in points.expiring(ledger, tenant_id, holder)] == ["100", "50"]
    assert redemptions.cancel(ledger, tenant_id, "r", actor="ops").replayed
    refunds = points.accumulations(ledger, tenant_id, holder, accum_type="earn").rows
    assert [(r.dtype, str(r.quantity)) for r in refunds][:1] == [("refund", "120")]
    assert _balance(ledger, tenant_id) == 150
    with pytest.raises(InvalidRedemptionState):
        redemptions.confirm(ledger, tenant_id, cancelled.code, actor="till")
    assert points.validate(ledger, tenant_id) == []


def test_refund_does_not_revive_points_of_an_expired_lot(
    ledger: Ledger, tenant_id: str, holder: str, clock: FakeClock
) -> None:
    clock.advance(days=20)
    points.earn(ledger, tenant_id, holder, "50", dtype="invoice", reference="e2")
    redemptions.create(
        ledger, tenant_id, holder, offer_id="o", cost="120", reference="r", ttl_seconds=86400 * 20
    )
    clock.advance(days=11)  # e1 (from day 0) expires at day 30; e2 lives to day 50
    cancelled = redemptions.cancel(ledger, tenant_id, "r", actor="ops")
    assert (str(cancelled.refunded), str(cancelled.forfeited)) == ("20", "100")
    assert _balance(ledger, tenant_id) == 50
    assert points.validate(ledger, tenant_id) == []


def test_pending_redemption_expires_in_the_due_jobs_with_one_refund(
    ledger: Ledger, tenant_id: str, holder: str, clock: FakeClock
) -> None:
    made = redemptions.create(
        ledger, tenant_id, holder, offer_id="o", cost="30", reference="r", ttl_seconds=600
    )
    clock.advance(seconds=601)
    with pytest.raises(InvalidRedemptionState):
        redemptions.confirm(ledger, tenant_id, made.code, actor="till")
    assert jobs.run_due_jobs(ledger, tenant_id).steps["points"]["redemptions_expired"] == 1
    assert jobs.run_due_jobs(ledger, tenant_id).steps["points"]["redemptions_expired"] == 0
    assert redemptions.get(ledger, tenant_id, "r").state.value == "expired"
    assert _balance(ledger, tenant_id) == 100
    with pytest.raises(InvalidRedemptionState):
        redemptions.cancel(ledger, tenant_id, "r", actor="ops")


def test_qr_codes_are_png_and_svg_images_of_the_code() -> None:
    png = redemptions.qr_png("ABCDE12345")
    svg = redemptions.qr_svg("ABCDE12345")
    assert png.startswith(b"\x89PNG")
    assert b"<svg" in svg


def test_a_colliding_code_is_drawn_again_at_most_the_attempts_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rewardledger.domain.errors import Busy
    from rewardledger.domain.limits import REDEMPTION_CODE_ATTEMPTS_MAX
    from rewardledger.services.points import redemptions as module

    draws: list[int] = []

    def same_bytes(size: int) -> bytes:
        draws.append(size)
        return bytes(size)

    monkeypatch.setattr(module.secrets, "token_bytes", same_bytes)
    taken = {"0000000000"}
    with pytest.raises(Busy):
        module.fresh_code(lambda code: code in taken)
    assert len(draws) == REDEMPTION_CODE_ATTEMPTS_MAX
    draws.clear()
    assert module.fresh_code(lambda code: len(draws) < 3) == "0000000000"
    assert len(draws) == 3
