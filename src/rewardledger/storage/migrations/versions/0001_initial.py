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
        string("transfer_id", 128),
        instant("expires_at", nullable=True),
        key=("transfer_id",),
    )
    tenant_index("holds", "expiry", ["expires_at"])
    tenant_table(
        "integrity_repairs",
        string("repair_id", 36),
        string("actor", 200),
        instant("started_at"),
        instant("finished_at", nullable=True),
        counter("accounts_checked"),
        counter("changes_count"),
        key=("repair_id",),
    )
    tenant_table(
        "outbox",
        string("event_id", 36),
        string("event_type", 64),
        string("subject_id", 128),
        document("payload", nullable=True),
        instant("created_at"),
        instant("published_at", nullable=True),
        key=("event_id",),
    )
    tenant_table(
        "tenants",
        string("name", 200),
        string("timezone", 64),
        instant("created_at"),
        key=(),
    )
    tenant_table(
        "transfers",
        string("transfer_id", 128),
        string("phase", 8),
        string("kind", 32),
        string("reason", 64, nullable=True),
        string("asset_code", 16, nullable=True),
        bigint("amount_minor", nullable=True),
        string("debit_account_id", 128, nullable=True),
        string("credit_account_id", 128, nullable=True),
        string("pending_id", 128, nullable=True),
        instant("expires_at", nullable=True),
        instant("effective_at"),
        instant("created_at"),
        string("cycle_tag", 7),
        bigint("debit_entry_seq", nullable=True),
        bigint("credit_entry_seq", nullable=True),
        bigint("debit_balance_after", nullable=True),
        bigint("credit_balance_after", nullable=True),
        document("metadata", nullable=True),
        string("error_code", 32, nullable=True),
        document("rejection", nullable=True),
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
        string("key_id", 24),
        string("secret_hash", 64),
        string("role", 16),
        string("label", 200, nullable=True),
        instant("created_at"),
        instant("revoked_at", nullable=True),
        check("api_keys", "role_known", "role IN ('admin', 'writer', 'reader', 'merchant')"),
        belongs_to("api_keys", "tenants", {}),
        key=("key_id",),
    )
    op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True)
    tenant_table(
        "assets",
        string("code", 16),
        sa.Column("scale", sa.SmallInteger(), nullable=False),
        string("name", 200),
        instant("created_at"),
        check("assets", "scale_range", "scale >= 0 AND scale <= 8"),
        belongs_to("assets", "tenants", {}),
        key=("code",),
    )
    tenant_table(
        "integrity_repair_changes",
        string("repair_id", 36),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        string("target", 128),
        string("field", 32),
        bigint("before_value", nullable=True),
        bigint("after_value", nullable=True),
        belongs_to("integrity_repair_changes", "integrity_repairs", {"repair_id": "repair_id"}),
        key=("repair_id", "change_seq"),
    )
    tenant_table(
        "accounts",
        string("account_id", 128),
        string("asset_code", 16),
        flag("no_negative"),
        document("metadata", nullable=True),
        counter("debits_pending"),
        counter("debits_posted"),
        counter("credits_pending"),
        counter("credits_posted"),
        counter("entry_count"),
        instant("created_at"),
        instant("updated_at"),
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
