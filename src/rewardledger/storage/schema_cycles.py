"""Tables of the cashback and debt cycles (migration 0004_cycles creates the same).

Owns: the programmes, the append-only movement tables (``cashback_movements``,
``debt_movements``: refused UPDATE and DELETE by triggers, like the journal), the dirty marks
and the two projections ``cashback_ledger`` and ``debt_ledger`` (the seeds' columns, amounts in
integer minor units). Protects: a dirty mark is written in the same transaction as its
movement; its ``token`` changes on every write so that a refresh deletes only the mark it read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, SmallInteger, String, Table, Text

from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    TENANT_ID_LENGTH_MAX,
)
from rewardledger.storage.metadata import metadata
from rewardledger.storage.types import UtcDateTime

TAG_LENGTH = 10
ENUM_LENGTH = 16


def _tenant() -> Column[str]:
    return Column("tenant_id", String(TENANT_ID_LENGTH_MAX), primary_key=True)


cycle_settings = Table(
    "cycle_settings",
    metadata,
    _tenant(),
    Column("refresh_mode", String(ENUM_LENGTH), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

cashback_programs = Table(
    "cashback_programs",
    metadata,
    _tenant(),
    Column("currency", String(ASSET_CODE_LENGTH_MAX), nullable=False),
    Column("minimum_spend_minor", BigInteger, nullable=False),
    Column("default_cap_minor", BigInteger, nullable=False),
    Column("grace_days", SmallInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

cashback_accounts = Table(
    "cashback_accounts",
    metadata,
    _tenant(),
    Column("account_id", String(ACCOUNT_ID_LENGTH_MAX), primary_key=True),
    Column("default_cap_minor", BigInteger, nullable=True),
    Column("enrolled", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

debt_programs = Table(
    "debt_programs",
    metadata,
    _tenant(),
    Column("currency", String(ASSET_CODE_LENGTH_MAX), nullable=False),
    Column("closing_day", SmallInteger, nullable=False),
    Column("due_day", SmallInteger, nullable=False),
    Column("grace_days", SmallInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)

cashback_movements = Table(
    "cashback_movements",
    metadata,
    _tenant(),
    Column("movement_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("account_id", String(ACCOUNT_ID_LENGTH_MAX), nullable=False),
    Column("cycle_tag", String(TAG_LENGTH), nullable=False),
    Column("kind", String(ENUM_LENGTH), nullable=False),
    # Signed: a reversal carries the negated spend and cashback of the accrual it reverses.
    Column("spend_minor", BigInteger, nullable=False),
    Column("requested_minor", BigInteger, nullable=False),
    Column("cashback_minor", BigInteger, nullable=False),
    Column("budget_cap_minor", BigInteger, nullable=True),
    Column("override", Boolean, nullable=False),
    Column("reverses_id", String(DERIVED_ID_LENGTH_MAX), nullable=True),
    Column("transfer_id", String(DERIVED_ID_LENGTH_MAX), nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_cashback_movements_pair", "tenant_id", "account_id", "cycle_tag"),
    sqlite_with_rowid=False,
)

debt_movements = Table(
    "debt_movements",
    metadata,
    _tenant(),
    Column("movement_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    Column("person_id", String(ACCOUNT_ID_LENGTH_MAX), nullable=False),
    Column("cycle_tag", String(TAG_LENGTH), nullable=False),
    Column("kind", String(ENUM_LENGTH), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Column("transfer_id", String(DERIVED_ID_LENGTH_MAX), nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_debt_movements_pair", "tenant_id", "person_id", "cycle_tag"),
    sqlite_with_rowid=False,
)

cycle_dirty = Table(
    "cycle_dirty",
    metadata,
    _tenant(),
    Column("ledger", String(ENUM_LENGTH), primary_key=True),
    Column("holder_id", String(ACCOUNT_ID_LENGTH_MAX), primary_key=True),
    Column("cycle_tag", String(TAG_LENGTH), primary_key=True),
    Column("token", String(32), nullable=False),
    sqlite_with_rowid=False,
)

cashback_ledger = Table(
    "cashback_ledger",
    metadata,
    _tenant(),
    Column("account_id", String(ACCOUNT_ID_LENGTH_MAX), primary_key=True),
    Column("cycle_tag", String(TAG_LENGTH), primary_key=True),
    Column("cashback_ledger_id", String(36), nullable=False),
    Column("total_spend_minor", BigInteger, nullable=False),
    Column("total_cashback_minor", BigInteger, nullable=False),
    Column("budget_cap_minor", BigInteger, nullable=False),
    Column("eligibility", String(ENUM_LENGTH), nullable=False),
    Column("remaining_budget_minor", BigInteger, nullable=False),
    Column("status", String(ENUM_LENGTH), nullable=False),
    Column("notes", Text, nullable=True),
    Column("last_updated", UtcDateTime, nullable=False),
    Index("ix_cashback_ledger_cycle", "tenant_id", "cycle_tag"),
    sqlite_with_rowid=False,
)

debt_ledger = Table(
    "debt_ledger",
    metadata,
    _tenant(),
    Column("person_id", String(ACCOUNT_ID_LENGTH_MAX), primary_key=True),
    Column("cycle_tag", String(TAG_LENGTH), primary_key=True),
    Column("debt_ledger_id", String(36), nullable=False),
    Column("initial_debt_minor", BigInteger, nullable=False),
    Column("new_debt_minor", BigInteger, nullable=False),
    Column("repayments_minor", BigInteger, nullable=False),
    Column("debt_discount_minor", BigInteger, nullable=False),
    Column("net_debt_minor", BigInteger, nullable=False),
    Column("status", String(ENUM_LENGTH), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("notes", Text, nullable=True),
    Column("last_updated", UtcDateTime, nullable=False),
    Index("ix_debt_ledger_cycle", "tenant_id", "cycle_tag"),
    sqlite_with_rowid=False,
)
