"""Campaign budgets: budgets, their periods, reservations, alerts and corrections.

Revision ID: 0002_budgets
Revises: 0001
Create Date: 2026-11-22

The corrections table is the audit trail of who corrected what, with their note: like the
journal it refuses UPDATE and DELETE on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import (
    JSON_DOCUMENT,
    TIMESTAMP,
    ZERO,
    belongs_to,
    check,
    tenant_index,
    tenant_table,
)

revision = "0002_budgets"
down_revision = "0001"
branch_labels = None
depends_on = None


APPEND_ONLY_MESSAGE = (
    "budget corrections are an audit trail: they cannot be updated or deleted; "
    "record another correction instead"
)


def _minor(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), server_default=ZERO, nullable=False)


def upgrade() -> None:
    tenant_table(
        "budgets",
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
        check(
            "budgets",
            "caps_ordered",
            "hard_cap_minor > 0 AND soft_cap_minor > 0 AND soft_cap_minor <= hard_cap_minor",
        ),
        belongs_to("budgets", "assets", {"currency": "code"}),
        key=("budget_id",),
    )
    tenant_table(
        "budget_periods",
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
        belongs_to("budget_periods", "budgets", {"budget_id": "budget_id"}),
        key=("budget_id", "period"),
    )
    tenant_table(
        "budget_reservations",
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("member_key", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        check("budget_reservations", "amount_positive", "amount_minor > 0"),
        belongs_to("budget_reservations", "budgets", {"budget_id": "budget_id"}),
        key=("budget_id", "reference"),
    )
    tenant_index("budget_reservations", "member", ["budget_id", "period", "member_key"])
    tenant_table(
        "budget_alerts",
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("alert_key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("threshold_percent", sa.BigInteger(), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        key=("budget_id", "period", "alert_key"),
    )
    tenant_index("budget_alerts", "created", ["created_at"])
    tenant_table(
        "budget_corrections",
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("budget_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("reverses_id", sa.String(length=128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        key=("transfer_id",),
    )
    tenant_index("budget_corrections", "reverses", ["reverses_id"])

    refuse_changes(
        "rewardledger_budget_corrections_append_only", ("budget_corrections",), APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's budgets are never dropped by a migration.")
