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
    TIMESTAMP,
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
        sa.Column("refresh_mode", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        key=(),
    )
    tenant_table(
        "cashback_programs",
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("minimum_spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("default_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("grace_days", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        key=(),
    )
    tenant_table(
        "cashback_accounts",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("default_cap_minor", sa.BigInteger(), nullable=True),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        key=("account_id",),
    )
    tenant_table(
        "debt_programs",
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("closing_day", sa.SmallInteger(), nullable=False),
        sa.Column("due_day", sa.SmallInteger(), nullable=False),
        sa.Column("grace_days", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        key=(),
    )
    tenant_table(
        "cashback_movements",
        sa.Column("movement_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("cycle_tag", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("requested_minor", sa.BigInteger(), nullable=False),
        sa.Column("cashback_minor", sa.BigInteger(), nullable=False),
        sa.Column("budget_cap_minor", sa.BigInteger(), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("reverses_id", sa.String(length=128), nullable=True),
        sa.Column("transfer_id", sa.String(length=128), nullable=True),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        key=("movement_id",),
    )
    tenant_index("cashback_movements", "pair", ["account_id", "cycle_tag"])
    tenant_table(
        "debt_movements",
        sa.Column("movement_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("cycle_tag", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=True),
        sa.Column("transfer_id", sa.String(length=128), nullable=True),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        key=("movement_id",),
    )
    tenant_index("debt_movements", "pair", ["person_id", "cycle_tag"])
    tenant_table(
        "cycle_dirty",
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=128), nullable=False),
        sa.Column("cycle_tag", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        key=("ledger", "holder_id", "cycle_tag"),
    )
    tenant_table(
        "cashback_ledger",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("cycle_tag", sa.String(length=10), nullable=False),
        sa.Column("cashback_ledger_id", sa.String(length=36), nullable=False),
        sa.Column("total_spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_cashback_minor", sa.BigInteger(), nullable=False),
        sa.Column("budget_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("eligibility", sa.String(length=16), nullable=False),
        sa.Column("remaining_budget_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("last_updated", TIMESTAMP, nullable=False),
        key=("account_id", "cycle_tag"),
    )
    tenant_index("cashback_ledger", "cycle", ["cycle_tag"])
    tenant_table(
        "debt_ledger",
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("cycle_tag", sa.String(length=10), nullable=False),
        sa.Column("debt_ledger_id", sa.String(length=36), nullable=False),
        sa.Column("initial_debt_minor", sa.BigInteger(), nullable=False),
        sa.Column("new_debt_minor", sa.BigInteger(), nullable=False),
        sa.Column("repayments_minor", sa.BigInteger(), nullable=False),
        sa.Column("debt_discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_debt_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("last_updated", TIMESTAMP, nullable=False),
        key=("person_id", "cycle_tag"),
    )
    tenant_index("debt_ledger", "cycle", ["cycle_tag"])

    refuse_changes(
        "rewardledger_cycle_movements_append_only", APPEND_ONLY_TABLES, APPEND_ONLY_MESSAGE
    )


def downgrade() -> None:
    raise NotImplementedError("rewardledger's cycle movements are never dropped by a migration.")
