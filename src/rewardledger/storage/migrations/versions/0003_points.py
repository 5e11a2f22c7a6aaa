"""Points: programme settings, reasons, holders, earn lots, lot moves, redemptions (issue 4).

Revision ID: 0003_points
Revises: 0001
Create Date: 2026-11-22

``points_lot_moves`` (which lots a spend, expiry or refund touched) is append-only, like the
journal, on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import (
    JSON_DOCUMENT,
    TIMESTAMP,
    check,
    tenant_index,
    tenant_table,
)

revision = "0003_points"
down_revision = "0002_budgets"
branch_labels = None
depends_on = None


APPEND_ONLY_MESSAGE = "points lot moves are append-only: they cannot be updated or deleted"


def upgrade() -> None:
    tenant_table(
        "points_assets",
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("expiry", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        key=("asset_code",),
    )
    tenant_table(
        "points_reasons",
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("pending_seconds", sa.BigInteger(), nullable=True),
        sa.Column("pending_until_activated", sa.Boolean(), nullable=False),
        sa.Column("expiry", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        check("points_reasons", "direction_known", "direction IN ('earn', 'spend')"),
        key=("direction", "reason"),
    )
    tenant_table(
        "points_holders",
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=96), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        key=("asset_code", "holder_id"),
    )
    tenant_table(
        "points_lots",
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=96), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("remaining_minor", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deficit", sa.Boolean(), nullable=False),
        sa.Column("earned_at", TIMESTAMP, nullable=False),
        sa.Column("activated_at", TIMESTAMP, nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("pending_due_at", TIMESTAMP, nullable=True),
        check(
            "points_lots", "state_known", "state IN ('pending', 'active', 'cancelled', 'expired')"
        ),
        check("points_lots", "remaining_not_negative", "deficit OR remaining_minor >= 0"),
        check("points_lots", "remaining_within", "remaining_minor <= amount_minor OR deficit"),
        key=("lot_id",),
    )
    tenant_index("points_lots", "holder", ["asset_code", "holder_id", "state"])
    tenant_index("points_lots", "expiry", ["state", "expires_at"])
    tenant_index("points_lots", "pending_due", ["state", "pending_due_at"])
    tenant_table(
        "points_lot_moves",
        sa.Column("movement_id", sa.String(length=128), nullable=False),
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        key=("movement_id", "lot_id"),
    )
    tenant_index("points_lot_moves", "lot", ["lot_id"])
    tenant_table(
        "points_redemptions",
        sa.Column("redemption_id", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=96), nullable=False),
        sa.Column("offer_id", sa.String(length=128), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("forfeited_minor", sa.BigInteger(), nullable=False),
        check(
            "points_redemptions",
            "state_known",
            "state IN ('pending', 'confirmed', 'cancelled', 'expired')",
        ),
        check("points_redemptions", "cost_positive", "cost_minor > 0"),
        key=("redemption_id",),
    )
    tenant_index("points_redemptions", "code", ["code"], unique=True)
    tenant_index("points_redemptions", "due", ["state", "expires_at"])

    refuse_changes(
        "rewardledger_points_moves_append_only", ("points_lot_moves",), APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's points history is never dropped by a migration.")
