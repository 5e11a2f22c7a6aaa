"""The points seed's meanings (seed 004), in its own words: gamification earns with dtype
``points``, and a redemption's QR code is one that ordinary QR readers decode."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from rewardledger.domain.points import ExpiryKind, ExpiryPolicy
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points, redemptions


def _decode(png: bytes) -> list[zxingcpp.Barcode]:
    image = Image.open(io.BytesIO(png))
    image.load()
    return zxingcpp.read_barcodes(image.convert("L"))


def test_a_redemption_qr_png_is_a_standard_qr_code_a_reader_decodes() -> None:
    # Seed 004: "rewards.user_redemptions (QR codes, estados, validaciones)". A Micro QR
    # (what segno.make picks for 10 characters) is not what phone cameras or zbarimg read.
    code = "ABCDE12345"
    found = _decode(redemptions.qr_png(code))
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.QRCode, code)]
    # The reader is not lenient: restricted to standard QR it finds no Micro QR.
    import segno

    micro = io.BytesIO()
    segno.make(code, error="m").save(micro, kind="png", scale=8, border=4)
    assert segno.make(code, error="m").is_micro
    assert [b.format for b in _decode(micro.getvalue())] == [zxingcpp.BarcodeFormat.MicroQRCode]


def test_the_svg_qr_is_a_standard_qr_code_too() -> None:
    svg = redemptions.qr_svg("ABCDE12345").decode()
    # A standard QR of version 1 has 21 modules a side (a Micro QR at most 17): with scale 8
    # and a 4-module border that is (21 + 8) * 8 = 232 pixels.
    assert 'width="232"' in svg


def test_the_qr_of_a_redemption_served_decodes_to_its_code(ledger: Ledger, tenant_id: str) -> None:
    points.configure(ledger, tenant_id, "LUMIS", expiry=ExpiryPolicy(ExpiryKind.NONE))
    points.earn(ledger, tenant_id, "u1", "100", dtype="invoice", reference="e1")
    made = redemptions.create(
        ledger, tenant_id, "u1", offer_id="coffee", cost="40", reference="red-qr"
    )
    found = _decode(redemptions.qr_png(made.code))
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.QRCode, made.code)]


def test_gamification_earns_with_dtype_points_as_the_seed_writes(
    ledger: Ledger, tenant_id: str
) -> None:
    # Seed 004, gamification_service.rs award_gamification_lumis():
    #   INSERT INTO rewards.fact_accumulations (user_id, accum_type, dtype, quantity, ...)
    #   VALUES ($1, 'earn', 'points', $2, ...)  // quantity POSITIVO
    points.configure(ledger, tenant_id, "LUMIS")
    earned = points.earn(ledger, tenant_id, "u7", "50", dtype="points", reference="game-1")
    assert (earned.accum_type, earned.dtype, earned.quantity.minor) == ("earn", "points", 50)
    assert points.balance(ledger, tenant_id, "u7").balance.minor == 50
    # ... and the redemption's spend keeps its dtype 'points' ('spend', 'points', -$2).
    made = redemptions.create(ledger, tenant_id, "u7", offer_id="o", cost="20", reference="r7")
    assert made.state.value == "pending"
    assert points.balance(ledger, tenant_id, "u7").balance.minor == 30


@pytest.mark.parametrize("direction", ["earn", "spend"])
def test_points_is_a_reason_of_both_directions(
    ledger: Ledger, tenant_id: str, direction: str
) -> None:
    points.configure(ledger, tenant_id, "LUMIS")
    assert (direction, "points") in {
        (r.direction.value, r.code) for r in points.reasons(ledger, tenant_id)
    }
