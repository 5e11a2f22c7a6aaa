"""Points: programme settings, reasons, holders, earn lots, lot moves, redemptions (issue 4).

Revision ID: 0003_points
Revises: 0001
Create Date: 2026-11-22

``points_lot_moves`` (which lots a spend, expiry or refund touched) is append-only, like the
journal, on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from rewardledger.storage.migrations.append_only import refuse_changes

revision = "0003_points"
down_revision = "0002_budgets"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

APPEND_ONLY_MESSAGE = "points lot moves are append-only: they cannot be updated or deleted"


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(length=64), nullable=False)


def upgrade() -> None:
    op.create_table(
        "points_assets",
        _tenant(),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("expiry", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "asset_code", name=op.f("pk_points_assets")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "points_reasons",
        _tenant(),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("pending_seconds", sa.BigInteger(), nullable=True),
        sa.Column("pending_until_activated", sa.Boolean(), nullable=False),
        sa.Column("expiry", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "direction IN ('earn', 'spend')", name=op.f("ck_points_reasons_direction_known")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "direction", "reason", name=op.f("pk_points_reasons")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "points_holders",
        _tenant(),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=96), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "asset_code", "holder_id", name=op.f("pk_points_holders")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "points_lots",
        _tenant(),
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
        sa.CheckConstraint(
            "state IN ('pending', 'active', 'cancelled', 'expired')",
            name=op.f("ck_points_lots_state_known"),
        ),
        sa.CheckConstraint(
            "deficit OR remaining_minor >= 0", name=op.f("ck_points_lots_remaining_not_negative")
        ),
        sa.CheckConstraint(
            "remaining_minor <= amount_minor OR deficit",
            name=op.f("ck_points_lots_remaining_within"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "lot_id", name=op.f("pk_points_lots")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_points_lots_holder", "points_lots", ["tenant_id", "asset_code", "holder_id", "state"]
    )
    op.create_index("ix_points_lots_expiry", "points_lots", ["tenant_id", "state", "expires_at"])
    op.create_index(
        "ix_points_lots_pending_due", "points_lots", ["tenant_id", "state", "pending_due_at"]
    )
    op.create_table(
        "points_lot_moves",
        _tenant(),
        sa.Column("movement_id", sa.String(length=128), nullable=False),
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "movement_id", "lot_id", name=op.f("pk_points_lot_moves")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_points_lot_moves_lot", "points_lot_moves", ["tenant_id", "lot_id"])
    op.create_table(
        "points_redemptions",
        _tenant(),
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
        sa.CheckConstraint(
            "state IN ('pending', 'confirmed', 'cancelled', 'expired')",
            name=op.f("ck_points_redemptions_state_known"),
        ),
        sa.CheckConstraint("cost_minor > 0", name=op.f("ck_points_redemptions_cost_positive")),
        sa.PrimaryKeyConstraint("tenant_id", "redemption_id", name=op.f("pk_points_redemptions")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_points_redemptions_code", "points_redemptions", ["tenant_id", "code"], unique=True
    )
    op.create_index(
        "ix_points_redemptions_due", "points_redemptions", ["tenant_id", "state", "expires_at"]
    )

    refuse_changes(
        "rewardledger_points_moves_append_only", ("points_lot_moves",), APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's points history is never dropped by a migration.")
