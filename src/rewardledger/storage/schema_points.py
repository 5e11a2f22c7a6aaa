"""Tables of the points service: programme settings, reasons, holders, earn lots, lot moves and
redemptions (issue 4).

Owns: the points rows that live beside the journal. The journal stays the source of truth for
balances; these rows say which earn lot each point sits in. Protects: a lot's remainder never
goes below zero (except the holder's deficit lot), a redemption code is unique per tenant, and
``points_lot_moves`` (which lot a spend, expiry or refund touched) is append-only (triggers in
migration 0003_points).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Index, String, Table

from rewardledger.domain.limits import (
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    HOLDER_ID_LENGTH_MAX,
    OFFER_ID_LENGTH_MAX,
    REASON_LENGTH_MAX,
    TENANT_ID_LENGTH_MAX,
)
from rewardledger.storage.metadata import metadata
from rewardledger.storage.types import Json, UtcDateTime


def _tenant() -> Column[str]:
    return Column("tenant_id", String(TENANT_ID_LENGTH_MAX), primary_key=True)


points_assets = Table(
    "points_assets",
    metadata,
    _tenant(),
    Column("asset_code", String(ASSET_CODE_LENGTH_MAX), primary_key=True),
    Column("expiry", Json(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

points_reasons = Table(
    "points_reasons",
    metadata,
    _tenant(),
    Column("direction", String(8), primary_key=True),
    Column("reason", String(REASON_LENGTH_MAX), primary_key=True),
    Column("allow_negative", Boolean, nullable=False),
    Column("pending_seconds", BigInteger, nullable=True),
    Column("pending_until_activated", Boolean, nullable=False),
    Column("expiry", Json(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("direction IN ('earn', 'spend')", name="direction_known"),
    sqlite_with_rowid=False,
)

points_holders = Table(
    "points_holders",
    metadata,
    _tenant(),
    Column("asset_code", String(ASSET_CODE_LENGTH_MAX), primary_key=True),
    Column("holder_id", String(HOLDER_ID_LENGTH_MAX), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

points_lots = Table(
    "points_lots",
    metadata,
    _tenant(),
    Column("lot_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("asset_code", String(ASSET_CODE_LENGTH_MAX), nullable=False),
    Column("holder_id", String(HOLDER_ID_LENGTH_MAX), nullable=False),
    Column("reason", String(REASON_LENGTH_MAX), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("remaining_minor", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("deficit", Boolean, nullable=False),
    Column("earned_at", UtcDateTime, nullable=False),
    Column("activated_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("pending_due_at", UtcDateTime, nullable=True),
    CheckConstraint("state IN ('pending', 'active', 'cancelled', 'expired')", name="state_known"),
    CheckConstraint("deficit OR remaining_minor >= 0", name="remaining_not_negative"),
    CheckConstraint("remaining_minor <= amount_minor OR deficit", name="remaining_within"),
    Index("ix_points_lots_holder", "tenant_id", "asset_code", "holder_id", "state"),
    Index("ix_points_lots_expiry", "tenant_id", "state", "expires_at"),
    Index("ix_points_lots_pending_due", "tenant_id", "state", "pending_due_at"),
    sqlite_with_rowid=False,
)

points_lot_moves = Table(
    "points_lot_moves",
    metadata,
    _tenant(),
    Column("movement_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("lot_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    # Signed: < 0 taken from the lot (spend, expiry), > 0 given back (refund, deficit cover).
    Column("amount_minor", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_points_lot_moves_lot", "tenant_id", "lot_id"),
    sqlite_with_rowid=False,
)

points_redemptions = Table(
    "points_redemptions",
    metadata,
    _tenant(),
    Column("redemption_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("code", String(16), nullable=False),
    Column("asset_code", String(ASSET_CODE_LENGTH_MAX), nullable=False),
    Column("holder_id", String(HOLDER_ID_LENGTH_MAX), nullable=False),
    Column("offer_id", String(OFFER_ID_LENGTH_MAX), nullable=False),
    Column("cost_minor", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolved_by", String(DERIVED_ID_LENGTH_MAX), nullable=True),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("forfeited_minor", BigInteger, nullable=False),
    CheckConstraint(
        "state IN ('pending', 'confirmed', 'cancelled', 'expired')", name="state_known"
    ),
    CheckConstraint("cost_minor > 0", name="cost_positive"),
    Index("ix_points_redemptions_code", "tenant_id", "code", unique=True),
    Index("ix_points_redemptions_due", "tenant_id", "state", "expires_at"),
    sqlite_with_rowid=False,
)
