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

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import (
    JSON_DOCUMENT,
    TIMESTAMP,
    belongs_to,
    check,
    tenant_index,
    tenant_table,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_MESSAGE = (
    "the journal is append-only: transfers cannot be updated or deleted; "
    "post a correcting transfer instead"
)


def upgrade() -> None:
    tenant_table(
        "holds",
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        key=("transfer_id",),
    )
    tenant_index("holds", "expiry", ["expires_at"])
    tenant_table(
        "integrity_repairs",
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("accounts_checked", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("changes_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        key=("repair_id",),
    )
    tenant_table(
        "outbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("payload", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        key=("event_id",),
    )
    tenant_table(
        "tenants",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        key=(),
    )
    tenant_table(
        "transfers",
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
        check(
            "transfers",
            "resolution_names_pending",
            "error_code IS NOT NULL OR (phase IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)",
        ),
        check(
            "transfers", "phase_known", "phase IN ('single', 'pending', 'post', 'void', 'expire')"
        ),
        check(
            "transfers",
            "accepted_row_complete",
            "error_code IS NOT NULL OR (amount_minor > 0 AND asset_code IS NOT NULL AND debit_account_id IS NOT NULL AND credit_account_id IS NOT NULL AND debit_account_id <> credit_account_id AND debit_entry_seq IS NOT NULL AND credit_entry_seq IS NOT NULL AND debit_balance_after IS NOT NULL AND credit_balance_after IS NOT NULL)",
        ),
        check(
            "transfers",
            "refused_row_moves_nothing",
            "error_code IS NULL OR (debit_entry_seq IS NULL AND credit_entry_seq IS NULL AND rejection IS NOT NULL)",
        ),
        key=("transfer_id",),
    )
    tenant_index(
        "transfers", "credit_entry", ["credit_account_id", "credit_entry_seq"], unique=True
    )
    tenant_index("transfers", "debit_entry", ["debit_account_id", "debit_entry_seq"], unique=True)
    tenant_index(
        "transfers",
        "one_resolution",
        ["pending_id"],
        unique=True,
        where="pending_id IS NOT NULL AND error_code IS NULL",
    )
    tenant_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        check("api_keys", "role_known", "role IN ('admin', 'writer', 'reader', 'merchant')"),
        belongs_to("api_keys", "tenants", {}),
        key=("key_id",),
    )
    op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True)
    tenant_table(
        "assets",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("scale", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        check("assets", "scale_range", "scale >= 0 AND scale <= 8"),
        belongs_to("assets", "tenants", {}),
        key=("code",),
    )
    tenant_table(
        "integrity_repair_changes",
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("before_value", sa.BigInteger(), nullable=True),
        sa.Column("after_value", sa.BigInteger(), nullable=True),
        belongs_to("integrity_repair_changes", "integrity_repairs", {"repair_id": "repair_id"}),
        key=("repair_id", "change_seq"),
    )
    tenant_table(
        "accounts",
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
        check(
            "accounts",
            "no_negative_balance",
            "NOT no_negative OR credits_posted - debits_posted - debits_pending >= 0",
        ),
        check(
            "accounts",
            "totals_not_negative",
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0 AND entry_count >= 0",
        ),
        belongs_to("accounts", "assets", {"asset_code": "code"}),
        key=("account_id",),
    )

    refuse_changes("rewardledger_journal_append_only", ("transfers",), APPEND_ONLY_MESSAGE)


def downgrade() -> None:
    raise NotImplementedError("rewardledger's journal is never dropped by a migration.")
