"""Initial schema: tenants, assets, accounts, the journal, holds, outbox, API keys, repairs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The journal (``transfers``) is made append-only here, on both engines, by triggers that refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL): invariant 6 holds for plain SQL too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from rewardledger.storage.migrations.append_only import refuse_changes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

APPEND_ONLY_MESSAGE = (
    "the journal is append-only: transfers cannot be updated or deleted; "
    "post a correcting transfer instead"
)


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "transfer_id", name=op.f("pk_holds")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_holds_expiry", "holds", ["tenant_id", "expires_at"], unique=False)
    op.create_table(
        "integrity_repairs",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("accounts_checked", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("changes_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "repair_id", name=op.f("pk_integrity_repairs")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "outbox",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("payload", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_outbox")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "transfers",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("asset_code", sa.String(length=16), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("debit_account_id", sa.String(length=128), nullable=True),
        sa.Column("credit_account_id", sa.String(length=128), nullable=True),
        sa.Column("pending_id", sa.String(length=128), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("effective_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("cycle_tag", sa.String(length=7), nullable=False),
        sa.Column("debit_entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("credit_entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("debit_balance_after", sa.BigInteger(), nullable=True),
        sa.Column("credit_balance_after", sa.BigInteger(), nullable=True),
        sa.Column("metadata", JSON_DOCUMENT, nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("rejection", JSON_DOCUMENT, nullable=True),
        sa.CheckConstraint(
            "error_code IS NOT NULL OR (phase IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)",
            name=op.f("ck_transfers_resolution_names_pending"),
        ),
        sa.CheckConstraint(
            "phase IN ('single', 'pending', 'post', 'void', 'expire')",
            name=op.f("ck_transfers_phase_known"),
        ),
        sa.CheckConstraint(
            "error_code IS NOT NULL OR (amount_minor > 0 AND asset_code IS NOT NULL AND debit_account_id IS NOT NULL AND credit_account_id IS NOT NULL AND debit_account_id <> credit_account_id AND debit_entry_seq IS NOT NULL AND credit_entry_seq IS NOT NULL AND debit_balance_after IS NOT NULL AND credit_balance_after IS NOT NULL)",
            name=op.f("ck_transfers_accepted_row_complete"),
        ),
        sa.CheckConstraint(
            "error_code IS NULL OR (debit_entry_seq IS NULL AND credit_entry_seq IS NULL AND rejection IS NOT NULL)",
            name=op.f("ck_transfers_refused_row_moves_nothing"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "transfer_id", name=op.f("pk_transfers")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_transfers_credit_entry",
        "transfers",
        ["tenant_id", "credit_account_id", "credit_entry_seq"],
        unique=True,
    )
    op.create_index(
        "ix_transfers_debit_entry",
        "transfers",
        ["tenant_id", "debit_account_id", "debit_entry_seq"],
        unique=True,
    )
    op.create_index(
        "ix_transfers_one_resolution",
        "transfers",
        ["tenant_id", "pending_id"],
        unique=True,
        postgresql_where=sa.text("pending_id IS NOT NULL AND error_code IS NULL"),
        sqlite_where=sa.text("pending_id IS NOT NULL AND error_code IS NULL"),
    )
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'writer', 'reader', 'merchant')", name=op.f("ck_api_keys_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.tenant_id"], name=op.f("fk_api_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key_id", name=op.f("pk_api_keys")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True)
    op.create_table(
        "assets",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("scale", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("scale >= 0 AND scale <= 8", name=op.f("ck_assets_scale_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.tenant_id"], name=op.f("fk_assets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_assets")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "integrity_repair_changes",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("before_value", sa.BigInteger(), nullable=True),
        sa.Column("after_value", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "repair_id"],
            ["integrity_repairs.tenant_id", "integrity_repairs.repair_id"],
            name=op.f("fk_integrity_repair_changes_tenant_id_integrity_repairs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "repair_id", "change_seq", name=op.f("pk_integrity_repair_changes")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "accounts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("no_negative", sa.Boolean(), nullable=False),
        sa.Column("metadata", JSON_DOCUMENT, nullable=True),
        sa.Column("debits_pending", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "NOT no_negative OR credits_posted - debits_posted - debits_pending >= 0",
            name=op.f("ck_accounts_no_negative_balance"),
        ),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0 AND entry_count >= 0",
            name=op.f("ck_accounts_totals_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_code"],
            ["assets.tenant_id", "assets.code"],
            name=op.f("fk_accounts_tenant_id_assets"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "account_id", name=op.f("pk_accounts")),
        sqlite_with_rowid=False,
    )

    refuse_changes("rewardledger_journal_append_only", ("transfers",), APPEND_ONLY_MESSAGE)


def downgrade() -> None:
    raise NotImplementedError("rewardledger's journal is never dropped by a migration.")
