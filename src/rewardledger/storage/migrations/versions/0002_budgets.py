"""Campaign budgets: budgets, their periods, reservations, alerts and corrections.

Revision ID: 0002_budgets
Revises: 0001
Create Date: 2026-11-22

The corrections table is the audit trail of who corrected what, with their note: like the
journal it refuses UPDATE and DELETE on both engines.
"""

from __future__ import annotations

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import (
    belongs_to,
    bigint,
    check,
    counter,
    document,
    flag,
    instant,
    string,
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


def upgrade() -> None:
    tenant_table(
        "budgets",
        string("budget_id", 40),
        string("name", 200),
        string("currency", 16),
        bigint("hard_cap_minor"),
        bigint("soft_cap_minor"),
        string("thresholds_percent", 64),
        string("period", 16),
        flag("rollover"),
        bigint("member_cap_amount_minor", nullable=True),
        bigint("member_cap_count", nullable=True),
        string("current_period", 16, nullable=True),
        instant("created_at"),
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
        string("budget_id", 40),
        string("period", 16),
        string("account_id", 128),
        instant("opened_at"),
        counter("funded_minor"),
        counter("rolled_in_minor"),
        counter("rolled_out_minor"),
        counter("reversed_funds_minor"),
        counter("reversed_charges_minor"),
        counter("reserved_total_minor"),
        counter("rollovers_count"),
        belongs_to("budget_periods", "budgets", {"budget_id": "budget_id"}),
        key=("budget_id", "period"),
    )
    tenant_table(
        "budget_reservations",
        string("budget_id", 40),
        string("reference", 64),
        string("transfer_id", 128),
        string("period", 16),
        string("member_key", 64, nullable=True),
        bigint("amount_minor"),
        instant("expires_at", nullable=True),
        instant("created_at"),
        check("budget_reservations", "amount_positive", "amount_minor > 0"),
        belongs_to("budget_reservations", "budgets", {"budget_id": "budget_id"}),
        key=("budget_id", "reference"),
    )
    tenant_index("budget_reservations", "member", ["budget_id", "period", "member_key"])
    tenant_table(
        "budget_alerts",
        string("budget_id", 40),
        string("period", 16),
        string("alert_key", 80),
        string("kind", 64),
        string("level", 16),
        bigint("threshold_percent", nullable=True),
        document("details"),
        instant("created_at"),
        key=("budget_id", "period", "alert_key"),
    )
    tenant_index("budget_alerts", "created", ["created_at"])
    tenant_table(
        "budget_corrections",
        string("transfer_id", 128),
        string("budget_id", 40),
        string("period", 16),
        string("reverses_id", 128),
        bigint("amount_minor"),
        string("note", 1000),
        string("actor", 200),
        instant("created_at"),
        key=("transfer_id",),
    )
    tenant_index("budget_corrections", "reverses", ["reverses_id"])

    refuse_changes(
        "rewardledger_budget_corrections_append_only", ("budget_corrections",), APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's budgets are never dropped by a migration.")
