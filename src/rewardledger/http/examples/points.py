"""Examples of the points' shapes (``http.schemas_points``, ``schemas_points_setup``): the demo's
LUMIS points (scale 0), earned with the seeds' ``dtype`` words (``invoice``, ``daily_game``,
``streak``) and spent on offers (``points``), for member-00000, who earned 400 and 150 and
redeemed a coffee for 100."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rewardledger.domain.paging import encode_cursor, instant_part
from rewardledger.http.examples.values import (
    AT,
    CREATED_AT,
    CURSOR,
    LATER,
    MEMBER,
    ORDER,
    POINTS,
)

Json = dict[str, Any]

# Set-up --------------------------------------------------------------------------------------

EXPIRY_AFTER_365: Json = {"kind": "after", "days": 365, "rounding": "end_of_month", "at": None}
POINTS_CONFIGURE: Json = {"asset": POINTS, "scale": 0, "expiry": EXPIRY_AFTER_365}
POINTS_ASSET_UPDATE: Json = {"expiry": EXPIRY_AFTER_365}
POINTS_ASSET: Json = POINTS_CONFIGURE
POINTS_ASSET_LIST: Json = {"assets": [POINTS_ASSET], "next_cursor": encode_cursor(POINTS)}
REASON_SETTINGS: Json = {"pending_seconds": 86400, "expiry": {"kind": "after", "days": 90}}
REASON_CREATE: Json = {"direction": "earn", "dtype": "birthday", "pending_seconds": 86400}
REASON: Json = {
    "direction": "earn",
    "dtype": "birthday",
    "allow_negative": False,
    "pending_seconds": 86400,
    "pending_until_activated": False,
    "expiry": None,
}
REASON_LIST: Json = {
    "reasons": [
        REASON,
        {**REASON, "dtype": "invoice", "pending_seconds": None},
        {**REASON, "direction": "spend", "dtype": "points", "pending_seconds": None},
    ],
    "next_cursor": encode_cursor("spend", "points"),
}

# Movements -----------------------------------------------------------------------------------

POINTS_MOVE_CREATE: Json = {
    "amount": "150",
    "dtype": "invoice",
    "idempotency_key": ORDER,
    "asset": POINTS,
    "metadata": {"invoice": "20260314-0042", "store": "Albrook Mall"},
}
ACTIVATE_CREATE: Json = {"reference": ORDER, "cancel": False}
LOT: Json = {"lot_id": ORDER, "amount": "150"}
POINTS_MOVE: Json = {
    "id": ORDER,
    "user_id": MEMBER,
    "asset": POINTS,
    "accum_type": "earn",
    "dtype": "invoice",
    "quantity": "150",
    "pending": False,
    "negative_allowed": False,
    "lots": [LOT],
    "replayed": False,
}
POINTS_BALANCE: Json = {
    "user_id": MEMBER,
    "asset": POINTS,
    "balance": "450",
    "available": "450",
    "pending": "0",
    "latest_update": AT,
    "as_of": None,
}
ACCUMULATION: Json = {
    "id": "coffee-member-00000.spend",
    "user_id": MEMBER,
    "accum_type": "spend",
    "dtype": "points",
    "quantity": "-100",
    "balance": "450",
    "date": LATER,
    "redemption_id": "coffee-member-00000",
    "negative_allowed": False,
}
ACCUMULATIONS: Json = {
    "user_id": MEMBER,
    "accumulations": [
        ACCUMULATION,
        {
            **ACCUMULATION,
            "id": ORDER,
            "accum_type": "earn",
            "dtype": "invoice",
            "quantity": "150",
            "balance": "550",
            "date": AT,
            "redemption_id": None,
        },
    ],
    "next_cursor": CURSOR,
}
EXPIRING: Json = {"expires_at": "2027-03-31T23:59:59-05:00", "amount": "400"}
EXPIRING_LIST: Json = {
    "user_id": MEMBER,
    "expiring": [EXPIRING, {"expires_at": "2027-04-30T23:59:59-05:00", "amount": "50"}],
    "next_cursor": encode_cursor(instant_part(datetime.fromisoformat("2027-04-30T23:59:59-05:00"))),
}
LEDGER_SUMMARY: Json = {
    "user_id": MEMBER,
    "asset": POINTS,
    "earned": "550",
    "spent": "100",
    "expired": "0",
    "balance": "450",
    "ledger_balance": "450",
    "lots_balance": "450",
    "rows": 3,
    "integrity_status": "OK",
}
LEDGER_SUMMARY_LIST: Json = {
    "holders": [
        {**LEDGER_SUMMARY, "balance": "460", "integrity_status": "MISMATCH"},
    ],
    "next_cursor": encode_cursor(POINTS, MEMBER),
}
LEDGER_SUMMARY_PAGE: Json = {"holders": [LEDGER_SUMMARY], "next_cursor": CURSOR}
POINTS_FIX: Json = {"repair_id": "repair-20260314-2", "changes": 1, "still_mismatched": []}

# Redemptions ---------------------------------------------------------------------------------

REDEMPTION_CREATE: Json = {
    "user_id": MEMBER,
    "offer_id": "coffee",
    "cost": "100",
    "idempotency_key": "coffee-member-00000",
    "asset": POINTS,
    "ttl_seconds": 2592000,
}
CONFIRM_CREATE: Json = {"code": "F695BEVXM8"}
REDEMPTION: Json = {
    "redemption_id": "coffee-member-00000",
    "code": "F695BEVXM8",
    "user_id": MEMBER,
    "asset": POINTS,
    "offer_id": "coffee",
    "cost": "100",
    "state": "pending",
    "created_at": CREATED_AT,
    "expires_at": "2026-03-31T14:00:00Z",
    "resolved_at": None,
    "resolved_by": None,
    "refunded": "0",
    "forfeited": "0",
}
REDEMPTION_PAGE: Json = {
    "redemptions": [
        REDEMPTION,
        {
            **REDEMPTION,
            "redemption_id": "movie-ticket-member-00001",
            "code": "EH60K2N7QZ",
            "user_id": "member-00001",
            "offer_id": "movie-ticket",
            "cost": "150",
            "state": "confirmed",
            "resolved_at": AT,
            "resolved_by": "demo till",
        },
    ],
    "next_cursor": CURSOR,
}
