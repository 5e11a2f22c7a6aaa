"""Tables of the points service: programme settings, reasons, holders, earn lots, lot moves and
redemptions (issue 4).

Owns: the points rows that live beside the journal. The journal stays the source of truth for
balances; these rows say which earn lot each point sits in. Protects: a lot's remainder never
goes below zero (except the holder's deficit lot), a redemption code is unique per tenant, and
``points_lot_moves`` (which lot a spend, expiry or refund touched) is append-only (triggers in
migration 0003_points). ``points_reminders`` (migration 0016_points_reminders) keys each
expiring-soon reminder sent, so that one is written once per (holder, asset, expiry date, days
ahead) whoever runs the step and however often.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Integer

from rewardledger.domain.limits import (
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    HOLDER_ID_LENGTH_MAX,
    OFFER_ID_LENGTH_MAX,
    REASON_LENGTH_MAX,
)
from rewardledger.storage.metadata import bigint, flag, instant, key, string, tenant_table
from rewardledger.storage.types import Json

points_assets = tenant_table(
    "points_assets",
    key("asset_code", ASSET_CODE_LENGTH_MAX),
    Column("expiry", Json(), nullable=True),
    instant("created_at"),
)

points_reasons = tenant_table(
    "points_reasons",
    key("direction", 8),
    key("reason", REASON_LENGTH_MAX),
    flag("allow_negative"),
    bigint("pending_seconds", nullable=True),
    flag("pending_until_activated"),
    Column("expiry", Json(), nullable=True),
    instant("created_at"),
    CheckConstraint("direction IN ('earn', 'spend')", name="direction_known"),
)

points_holders = tenant_table(
    "points_holders",
    key("asset_code", ASSET_CODE_LENGTH_MAX),
    key("holder_id", HOLDER_ID_LENGTH_MAX),
    instant("created_at"),
)

points_lots = tenant_table(
    "points_lots",
    key("lot_id", DERIVED_ID_LENGTH_MAX),
    string("asset_code", ASSET_CODE_LENGTH_MAX),
    string("holder_id", HOLDER_ID_LENGTH_MAX),
    string("reason", REASON_LENGTH_MAX),
    bigint("amount_minor"),
    bigint("remaining_minor"),
    string("state", 16),
    flag("deficit"),
    instant("earned_at"),
    instant("activated_at", nullable=True),
    instant("expires_at", nullable=True),
    instant("pending_due_at", nullable=True),
    CheckConstraint("state IN ('pending', 'active', 'cancelled', 'expired')", name="state_known"),
    CheckConstraint("deficit OR remaining_minor >= 0", name="remaining_not_negative"),
    CheckConstraint("remaining_minor <= amount_minor OR deficit", name="remaining_within"),
    Index("ix_points_lots_holder", "tenant_id", "asset_code", "holder_id", "state"),
    Index("ix_points_lots_expiry", "tenant_id", "state", "expires_at"),
    Index("ix_points_lots_pending_due", "tenant_id", "state", "pending_due_at"),
)

points_lot_moves = tenant_table(
    "points_lot_moves",
    key("movement_id", DERIVED_ID_LENGTH_MAX),
    key("lot_id", DERIVED_ID_LENGTH_MAX),
    # Signed: < 0 taken from the lot (spend, expiry), > 0 given back (refund, deficit cover).
    bigint("amount_minor"),
    instant("created_at"),
    Index("ix_points_lot_moves_lot", "tenant_id", "lot_id"),
)

points_redemptions = tenant_table(
    "points_redemptions",
    key("redemption_id", DERIVED_ID_LENGTH_MAX),
    string("code", 16),
    string("asset_code", ASSET_CODE_LENGTH_MAX),
    string("holder_id", HOLDER_ID_LENGTH_MAX),
    string("offer_id", OFFER_ID_LENGTH_MAX),
    bigint("cost_minor"),
    string("state", 16),
    instant("created_at"),
    instant("expires_at"),
    instant("resolved_at", nullable=True),
    string("resolved_by", DERIVED_ID_LENGTH_MAX, nullable=True),
    bigint("refunded_minor"),
    bigint("forfeited_minor"),
    CheckConstraint(
        "state IN ('pending', 'confirmed', 'cancelled', 'expired')", name="state_known"
    ),
    CheckConstraint("cost_minor > 0", name="cost_positive"),
    Index("ix_points_redemptions_code", "tenant_id", "code", unique=True),
    Index("ix_points_redemptions_due", "tenant_id", "state", "expires_at"),
)

points_reminders = tenant_table(
    "points_reminders",
    key("asset_code", ASSET_CODE_LENGTH_MAX),
    key("holder_id", HOLDER_ID_LENGTH_MAX),
    key("expires_on", 10),  # the lots' expiry date in the tenant's time zone, YYYY-MM-DD
    Column("days_ahead", Integer, primary_key=True),
    bigint("amount_minor"),
    instant("reminded_at"),
)
