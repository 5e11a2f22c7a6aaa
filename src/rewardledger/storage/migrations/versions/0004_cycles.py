"""Cashback and debt cycles: programmes, movements, dirty marks and the two cycle ledgers.

Revision ID: 0004_cycles
Revises: 0001
Create Date: 2026-11-22

``cashback_movements`` and ``debt_movements`` are append-only on both engines (triggers refuse
UPDATE and DELETE, and TRUNCATE on PostgreSQL), like the journal: a correction is a new
movement (a reversal), never an edit. The ledgers and dirty marks are projections and change.
"""

from __future__ import annotations

import sqlalchemy as sa

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import (
    bigint,
    flag,
    instant,
    string,
    tenant_index,
    tenant_table,
)

revision = "0004_cycles"
down_revision = "0003_points"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("cashback_movements", "debt_movements")
APPEND_ONLY_MESSAGE = (
    "cycle movements are append-only: they cannot be updated or deleted; "
    "record a reversal or a correcting movement instead"
)


def upgrade() -> None:
    tenant_table(
        "cycle_settings",
        string("refresh_mode", 16),
        instant("updated_at"),
        key=(),
    )
    tenant_table(
        "cashback_programs",
        string("currency", 16),
        bigint("minimum_spend_minor"),
        bigint("default_cap_minor"),
        sa.Column("grace_days", sa.SmallInteger(), nullable=False),
        instant("updated_at"),
        key=(),
    )
    tenant_table(
        "cashback_accounts",
        string("account_id", 128),
        bigint("default_cap_minor", nullable=True),
        flag("enrolled"),
        instant("updated_at"),
        key=("account_id",),
    )
    tenant_table(
        "debt_programs",
        string("currency", 16),
        sa.Column("closing_day", sa.SmallInteger(), nullable=False),
        sa.Column("due_day", sa.SmallInteger(), nullable=False),
        sa.Column("grace_days", sa.SmallInteger(), nullable=False),
        instant("updated_at"),
        key=(),
    )
    tenant_table(
        "cashback_movements",
        string("movement_id", 128),
        string("account_id", 128),
        string("cycle_tag", 10),
        string("kind", 16),
        bigint("spend_minor"),
        bigint("requested_minor"),
        bigint("cashback_minor"),
        bigint("budget_cap_minor", nullable=True),
        flag("override"),
        string("reverses_id", 128, nullable=True),
        string("transfer_id", 128, nullable=True),
        instant("occurred_at"),
        instant("recorded_at"),
        key=("movement_id",),
    )
    tenant_index("cashback_movements", "pair", ["account_id", "cycle_tag"])
    tenant_table(
        "debt_movements",
        string("movement_id", 128),
        string("person_id", 128),
        string("cycle_tag", 10),
        string("kind", 16),
        bigint("amount_minor"),
        instant("due_at", nullable=True),
        string("transfer_id", 128, nullable=True),
        instant("occurred_at"),
        instant("recorded_at"),
        key=("movement_id",),
    )
    tenant_index("debt_movements", "pair", ["person_id", "cycle_tag"])
    tenant_table(
        "cycle_dirty",
        string("ledger", 16),
        string("holder_id", 128),
        string("cycle_tag", 10),
        string("token", 32),
        key=("ledger", "holder_id", "cycle_tag"),
    )
    tenant_table(
        "cashback_ledger",
        string("account_id", 128),
        string("cycle_tag", 10),
        string("cashback_ledger_id", 36),
        bigint("total_spend_minor"),
        bigint("total_cashback_minor"),
        bigint("budget_cap_minor"),
        string("eligibility", 16),
        bigint("remaining_budget_minor"),
        string("status", 16),
        sa.Column("notes", sa.Text(), nullable=True),
        instant("last_updated"),
        key=("account_id", "cycle_tag"),
    )
    tenant_index("cashback_ledger", "cycle", ["cycle_tag"])
    tenant_table(
        "debt_ledger",
        string("person_id", 128),
        string("cycle_tag", 10),
        string("debt_ledger_id", 36),
        bigint("initial_debt_minor"),
        bigint("new_debt_minor"),
        bigint("repayments_minor"),
        bigint("debt_discount_minor"),
        bigint("net_debt_minor"),
        string("status", 16),
        instant("due_at"),
        sa.Column("notes", sa.Text(), nullable=True),
        instant("last_updated"),
        key=("person_id", "cycle_tag"),
    )
    tenant_index("debt_ledger", "cycle", ["cycle_tag"])

    refuse_changes(
        "rewardledger_cycle_movements_append_only", APPEND_ONLY_TABLES, APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's cycle movements are never dropped by a migration.")
