"""Campaign budgets: budgets, their periods, reservations, alerts and corrections.

Revision ID: 0002_budgets
Revises: 0001
Create Date: 2026-11-22

The corrections table is the audit trail of who corrected what, with their note: like the
journal it refuses UPDATE and DELETE on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from rewardledger.storage.migrations.append_only import refuse_changes

revision = "0002_budgets"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ZERO = sa.text("0")

APPEND_ONLY_MESSAGE = (
    "budget corrections are an audit trail: they cannot be updated or deleted; "
    "record another correction instead"
)


def _minor(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), server_default=ZERO, nullable=False)


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("hard_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("soft_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("thresholds_percent", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("rollover", sa.Boolean(), nullable=False),
        sa.Column("member_cap_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("member_cap_count", sa.BigInteger(), nullable=True),
        sa.Column("current_period", sa.String(length=16), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "hard_cap_minor > 0 AND soft_cap_minor > 0 AND soft_cap_minor <= hard_cap_minor",
            name=op.f("ck_budgets_caps_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "currency"],
            ["assets.tenant_id", "assets.code"],
            name=op.f("fk_budgets_tenant_id_assets"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "budget_id", name=op.f("pk_budgets")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "budget_periods",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        _minor("funded_minor"),
        _minor("rolled_in_minor"),
        _minor("rolled_out_minor"),
        _minor("reversed_funds_minor"),
        _minor("reversed_charges_minor"),
        _minor("reserved_total_minor"),
        _minor("rollovers_count"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "budget_id"],
            ["budgets.tenant_id", "budgets.budget_id"],
            name=op.f("fk_budget_periods_tenant_id_budgets"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "budget_id", "period", name=op.f("pk_budget_periods")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "budget_reservations",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("member_key", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_budget_reservations_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "budget_id"],
            ["budgets.tenant_id", "budgets.budget_id"],
            name=op.f("fk_budget_reservations_tenant_id_budgets"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "budget_id", "reference", name=op.f("pk_budget_reservations")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_budget_reservations_member",
        "budget_reservations",
        ["tenant_id", "budget_id", "period", "member_key"],
        unique=False,
    )
    op.create_table(
        "budget_alerts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("alert_key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("threshold_percent", sa.BigInteger(), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "budget_id", "period", "alert_key", name=op.f("pk_budget_alerts")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_budget_alerts_created", "budget_alerts", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "budget_corrections",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("reverses_id", sa.String(length=128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "transfer_id", name=op.f("pk_budget_corrections")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_budget_corrections_reverses",
        "budget_corrections",
        ["tenant_id", "reverses_id"],
        unique=False,
    )

    refuse_changes(
        "rewardledger_budget_corrections_append_only", ("budget_corrections",), APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's budgets are never dropped by a migration.")
