"""Points: programme settings, reasons, holders, earn lots, lot moves, redemptions (issue 4).

Revision ID: 0003_points
Revises: 0001
Create Date: 2026-11-22

``points_lot_moves`` (which lots a spend, expiry or refund touched) is append-only, like the
journal, on both engines.
"""

from __future__ import annotations

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import (
    bigint,
    check,
    document,
    flag,
    instant,
    string,
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
        string("asset_code", 16),
        document("expiry", nullable=True),
        instant("created_at"),
        key=("asset_code",),
    )
    tenant_table(
        "points_reasons",
        string("direction", 8),
        string("reason", 64),
        flag("allow_negative"),
        bigint("pending_seconds", nullable=True),
        flag("pending_until_activated"),
        document("expiry", nullable=True),
        instant("created_at"),
        check("points_reasons", "direction_known", "direction IN ('earn', 'spend')"),
        key=("direction", "reason"),
    )
    tenant_table(
        "points_holders",
        string("asset_code", 16),
        string("holder_id", 96),
        instant("created_at"),
        key=("asset_code", "holder_id"),
    )
    tenant_table(
        "points_lots",
        string("lot_id", 128),
        string("asset_code", 16),
        string("holder_id", 96),
        string("reason", 64),
        bigint("amount_minor"),
        bigint("remaining_minor"),
        string("state", 16),
        flag("deficit"),
        instant("earned_at"),
        instant("activated_at", nullable=True),
        instant("expires_at", nullable=True),
        instant("pending_due_at", nullable=True),
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
        string("movement_id", 128),
        string("lot_id", 128),
        bigint("amount_minor"),
        instant("created_at"),
        key=("movement_id", "lot_id"),
    )
    tenant_index("points_lot_moves", "lot", ["lot_id"])
    tenant_table(
        "points_redemptions",
        string("redemption_id", 128),
        string("code", 16),
        string("asset_code", 16),
        string("holder_id", 96),
        string("offer_id", 128),
        bigint("cost_minor"),
        string("state", 16),
        instant("created_at"),
        instant("expires_at"),
        instant("resolved_at", nullable=True),
        string("resolved_by", 128, nullable=True),
        bigint("refunded_minor"),
        bigint("forfeited_minor"),
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
