"""The database schema, as SQLAlchemy Core tables (the Alembic migrations create the same).

Owns: every table, key, constraint and index. Protects, at the database level:
- invariant 3: ``accounts`` refuses a no-negative account whose available balance is below 0;
- invariant 5: a pending transfer has at most one accepted resolution (unique ``pending_id``);
- invariant 6: the journal (``transfers``) refuses UPDATE and DELETE (triggers, in migrations);
- invariant 7: a transfer id (idempotency key) is unique per tenant, whatever its outcome;
- invariant 8 by construction: every key starts with ``tenant_id``.

The journal also keeps *refused* requests (``error_code`` set): they move nothing, carry no
entry sequence, and exist so that a replay of a refused request is refused again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    text,
)

from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    KIND_LENGTH_MAX,
    NAME_LENGTH_MAX,
    REASON_LENGTH_MAX,
    TENANT_ID_LENGTH_MAX,
)
from rewardledger.storage.metadata import metadata
from rewardledger.storage.types import Json, UtcDateTime


def _tenant() -> Column[str]:
    return Column("tenant_id", String(TENANT_ID_LENGTH_MAX), primary_key=True)


tenants = Table(
    "tenants",
    metadata,
    _tenant(),
    Column("name", String(NAME_LENGTH_MAX), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

assets = Table(
    "assets",
    metadata,
    _tenant(),
    Column("code", String(ASSET_CODE_LENGTH_MAX), primary_key=True),
    Column("scale", SmallInteger, nullable=False),
    Column("name", String(NAME_LENGTH_MAX), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    CheckConstraint("scale >= 0 AND scale <= 8", name="scale_range"),
    sqlite_with_rowid=False,
)

accounts = Table(
    "accounts",
    metadata,
    _tenant(),
    Column("account_id", String(ACCOUNT_ID_LENGTH_MAX), primary_key=True),
    Column("asset_code", String(ASSET_CODE_LENGTH_MAX), nullable=False),
    Column("no_negative", Boolean, nullable=False),
    Column("metadata", Json(), nullable=True),
    Column("debits_pending", BigInteger, nullable=False, server_default=text("0")),
    Column("debits_posted", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_pending", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_posted", BigInteger, nullable=False, server_default=text("0")),
    Column("entry_count", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
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
    sqlite_with_rowid=False,
)

PHASES_SQL = "'single', 'pending', 'post', 'void', 'expire'"

transfers = Table(
    "transfers",
    metadata,
    _tenant(),
    Column("transfer_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("phase", String(8), nullable=False),
    Column("kind", String(KIND_LENGTH_MAX), nullable=False),
    Column("reason", String(REASON_LENGTH_MAX), nullable=True),
    Column("asset_code", String(ASSET_CODE_LENGTH_MAX), nullable=True),
    Column("amount_minor", BigInteger, nullable=True),
    Column("debit_account_id", String(ACCOUNT_ID_LENGTH_MAX), nullable=True),
    Column("credit_account_id", String(ACCOUNT_ID_LENGTH_MAX), nullable=True),
    Column("pending_id", String(DERIVED_ID_LENGTH_MAX), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cycle_tag", String(7), nullable=False),
    Column("debit_entry_seq", BigInteger, nullable=True),
    Column("credit_entry_seq", BigInteger, nullable=True),
    Column("debit_balance_after", BigInteger, nullable=True),
    Column("credit_balance_after", BigInteger, nullable=True),
    Column("metadata", Json(), nullable=True),
    Column("error_code", String(32), nullable=True),
    Column("rejection", Json(), nullable=True),
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
    sqlite_with_rowid=False,
)

holds = Table(
    "holds",
    metadata,
    _tenant(),
    Column("transfer_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Index("ix_holds_expiry", "tenant_id", "expires_at"),
    sqlite_with_rowid=False,
)

outbox = Table(
    "outbox",
    metadata,
    _tenant(),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("subject_id", String(DERIVED_ID_LENGTH_MAX), nullable=False),
    Column("payload", Json(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    sqlite_with_rowid=False,
)

ROLES_SQL = "'admin', 'writer', 'reader', 'merchant'"

api_keys = Table(
    "api_keys",
    metadata,
    _tenant(),
    Column("key_id", String(24), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("label", String(NAME_LENGTH_MAX), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    CheckConstraint(f"role IN ({ROLES_SQL})", name="role_known"),
    # A presented key names its key_id, not its tenant: the id alone finds it, so that a key
    # of another tenant is told apart from an invalid one.
    Index("ix_api_keys_key_id", "key_id", unique=True),
    sqlite_with_rowid=False,
)

integrity_repairs = Table(
    "integrity_repairs",
    metadata,
    _tenant(),
    Column("repair_id", String(36), primary_key=True),
    Column("actor", String(NAME_LENGTH_MAX), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("accounts_checked", BigInteger, nullable=False, server_default=text("0")),
    Column("changes_count", BigInteger, nullable=False, server_default=text("0")),
    sqlite_with_rowid=False,
)

integrity_repair_changes = Table(
    "integrity_repair_changes",
    metadata,
    _tenant(),
    Column("repair_id", String(36), primary_key=True),
    Column("change_seq", Integer, primary_key=True),
    Column("target", String(DERIVED_ID_LENGTH_MAX), nullable=False),
    Column("field", String(32), nullable=False),
    Column("before_value", BigInteger, nullable=True),
    Column("after_value", BigInteger, nullable=True),
    ForeignKeyConstraint(
        ["tenant_id", "repair_id"],
        ["integrity_repairs.tenant_id", "integrity_repairs.repair_id"],
    ),
    sqlite_with_rowid=False,
)
