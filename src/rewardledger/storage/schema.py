"""The database schema, as SQLAlchemy Core tables (the Alembic migrations create the same).

Owns: every table, key, constraint and index. Protects, at the database level:
- invariant 3: ``accounts`` refuses a no-negative account whose available balance is below 0;
- invariant 5: a pending transfer has at most one accepted resolution (unique ``pending_id``);
- invariant 6: the journal (``transfers``) refuses UPDATE and DELETE (triggers, in migrations);
- invariant 7: a transfer id (idempotency key) is unique per tenant, whatever its outcome;
- invariant 8 by construction: every key starts with ``tenant_id``;
- tamper evidence: each journal row carries the digest of its content, and ``journal_seals``
  chains those digests segment by segment (see ``storage.journal_digest``).

The journal also keeps *refused* requests (``error_code`` set): they move nothing, carry no
entry sequence, and exist so that a replay of a refused request is refused again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    text,
)

from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    KIND_LENGTH_MAX,
    MANAGED_BY_LENGTH_MAX,
    NAME_LENGTH_MAX,
    REASON_LENGTH_MAX,
)
from rewardledger.storage.metadata import bigint, counter, flag, instant, key, string, tenant_table
from rewardledger.storage.types import Json

tenants = tenant_table(
    "tenants",
    string("name", NAME_LENGTH_MAX),
    string("timezone", 64),
    instant("created_at"),
)

assets = tenant_table(
    "assets",
    key("code", ASSET_CODE_LENGTH_MAX),
    Column("scale", SmallInteger, nullable=False),
    string("name", NAME_LENGTH_MAX),
    instant("created_at"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    CheckConstraint("scale >= 0 AND scale <= 8", name="scale_range"),
)

accounts = tenant_table(
    "accounts",
    key("account_id", ACCOUNT_ID_LENGTH_MAX),
    string("asset_code", ASSET_CODE_LENGTH_MAX),
    flag("no_negative"),
    Column("metadata", Json(), nullable=True),
    counter("debits_pending"),
    counter("debits_posted"),
    counter("credits_pending"),
    counter("credits_posted"),
    counter("entry_count"),
    instant("created_at"),
    instant("updated_at"),
    # The service that opened the account and alone moves it (raw transfers are refused).
    string("managed_by", MANAGED_BY_LENGTH_MAX, nullable=True),
    ForeignKeyConstraint(["tenant_id", "asset_code"], ["assets.tenant_id", "assets.code"]),
    CheckConstraint(
        "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
        "AND credits_posted >= 0 AND entry_count >= 0",
        name="totals_not_negative",
    ),
    CheckConstraint(
        "NOT no_negative OR credits_posted - debits_posted - debits_pending >= 0",
        name="no_negative_balance",
    ),
)

PHASES_SQL = "'single', 'pending', 'post', 'void', 'expire'"

transfers = tenant_table(
    "transfers",
    key("transfer_id", DERIVED_ID_LENGTH_MAX),
    string("phase", 8),
    string("kind", KIND_LENGTH_MAX),
    string("reason", REASON_LENGTH_MAX, nullable=True),
    string("asset_code", ASSET_CODE_LENGTH_MAX, nullable=True),
    bigint("amount_minor", nullable=True),
    string("debit_account_id", ACCOUNT_ID_LENGTH_MAX, nullable=True),
    string("credit_account_id", ACCOUNT_ID_LENGTH_MAX, nullable=True),
    string("pending_id", DERIVED_ID_LENGTH_MAX, nullable=True),
    instant("expires_at", nullable=True),
    instant("effective_at"),
    instant("created_at"),
    string("cycle_tag", 7),
    bigint("debit_entry_seq", nullable=True),
    bigint("credit_entry_seq", nullable=True),
    bigint("debit_balance_after", nullable=True),
    bigint("credit_balance_after", nullable=True),
    Column("metadata", Json(), nullable=True),
    string("error_code", 32, nullable=True),
    Column("rejection", Json(), nullable=True),
    # SHA-256 of every other column (storage.journal_digest), written with the row; verify
    # recomputes it. Nullable only because SQLite cannot add a NOT NULL column in place.
    Column("digest", LargeBinary(32), nullable=True),
    CheckConstraint(f"phase IN ({PHASES_SQL})", name="phase_known"),
    CheckConstraint(
        "error_code IS NOT NULL OR ("
        "amount_minor > 0 AND asset_code IS NOT NULL "
        "AND debit_account_id IS NOT NULL AND credit_account_id IS NOT NULL "
        "AND debit_account_id <> credit_account_id "
        "AND debit_entry_seq IS NOT NULL AND credit_entry_seq IS NOT NULL "
        "AND debit_balance_after IS NOT NULL AND credit_balance_after IS NOT NULL)",
        name="accepted_row_complete",
    ),
    CheckConstraint(
        "error_code IS NOT NULL OR "
        "(phase IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)",
        name="resolution_names_pending",
    ),
    CheckConstraint(
        "error_code IS NULL OR (debit_entry_seq IS NULL AND credit_entry_seq IS NULL "
        "AND rejection IS NOT NULL)",
        name="refused_row_moves_nothing",
    ),
    Index(
        "ix_transfers_debit_entry",
        "tenant_id",
        "debit_account_id",
        "debit_entry_seq",
        unique=True,
    ),
    Index(
        "ix_transfers_credit_entry",
        "tenant_id",
        "credit_account_id",
        "credit_entry_seq",
        unique=True,
    ),
    Index(
        "ix_transfers_one_resolution",
        "tenant_id",
        "pending_id",
        unique=True,
        postgresql_where=text("pending_id IS NOT NULL AND error_code IS NULL"),
        sqlite_where=text("pending_id IS NOT NULL AND error_code IS NULL"),
    ),
    # The list of transfers, newest first (migration 0016).
    Index("ix_transfers_created", "tenant_id", "created_at", "transfer_id"),
)

holds = tenant_table(
    "holds",
    key("transfer_id", DERIVED_ID_LENGTH_MAX),
    instant("expires_at", nullable=True),
    Index("ix_holds_expiry", "tenant_id", "expires_at"),
)

outbox = tenant_table(
    "outbox",
    key("event_id", 36),
    string("event_type", 64),
    string("subject_id", DERIVED_ID_LENGTH_MAX),
    Column("payload", Json(), nullable=True),
    instant("created_at"),
    instant("published_at", nullable=True),
    # The event feed's order (migration 0012_event_feed): the database gives each new row its
    # position (a sequence on PostgreSQL, a trigger on SQLite) and its transaction's id.
    Column("position", BigInteger, nullable=True),
    Column("txid", BigInteger, nullable=False),
    Index("uq_outbox_position", "tenant_id", "position", unique=True),
    Index("ix_outbox_feed", "tenant_id", "txid", "position"),
)

ROLES_SQL = "'admin', 'writer', 'reader', 'merchant'"

api_keys = tenant_table(
    "api_keys",
    key("key_id", 24),
    string("secret_hash", 64),
    string("role", 16),
    string("label", NAME_LENGTH_MAX, nullable=True),
    instant("created_at"),
    instant("revoked_at", nullable=True),
    # Set by a rotation: the key works until then and not after (migration 0012).
    instant("expires_at", nullable=True),
    # Written at most once a minute per key (services.access.LAST_USED_RESOLUTION).
    instant("last_used_at", nullable=True),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    CheckConstraint(f"role IN ({ROLES_SQL})", name="role_known"),
    # A presented key names its key_id, not its tenant: the id alone finds it, so that a key
    # of another tenant is told apart from an invalid one.
    Index("ix_api_keys_key_id", "key_id", unique=True),
)

integrity_repairs = tenant_table(
    "integrity_repairs",
    key("repair_id", 36),
    string("actor", NAME_LENGTH_MAX),
    instant("started_at"),
    instant("finished_at", nullable=True),
    counter("accounts_checked"),
    counter("changes_count"),
)

integrity_repair_changes = tenant_table(
    "integrity_repair_changes",
    key("repair_id", 36),
    Column("change_seq", Integer, primary_key=True),
    string("target", DERIVED_ID_LENGTH_MAX),
    string("field", 32),
    bigint("before_value", nullable=True),
    bigint("after_value", nullable=True),
    ForeignKeyConstraint(
        ["tenant_id", "repair_id"],
        ["integrity_repairs.tenant_id", "integrity_repairs.repair_id"],
    ),
)

journal_seals = tenant_table(
    "journal_seals",
    Column("seal_seq", Integer, primary_key=True, autoincrement=False),
    # The seal covers the journal rows and accounts created after the previous seal's cutoff
    # up to this one (a margin before ``sealed_at``, so that no write in flight is left out).
    instant("cutoff_at"),
    instant("sealed_at"),
    bigint("rows_count"),
    bigint("accounts_count"),
    string("segment_digest", 64),
    string("head", 64),
)
