"""The tables of campaign budgets (see ``rewardledger.services.budgets``).

Owns: budgets, their periods' counters, reservations by reference, alerts and the audit trail
of corrections. The money itself is in the core's accounts and journal: one account per
(budget, period), so that the account's totals are the period's reserved and charged figures.
Protects, at the database level: one reservation per (budget, reference); one alert per
(budget, period, threshold) (so a threshold alerts once per period); corrections are
append-only (triggers in migration 0002_budgets).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    text,
)

from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    BUDGET_ID_LENGTH_MAX,
    BUDGET_NOTE_LENGTH_MAX,
    BUDGET_REFERENCE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    NAME_LENGTH_MAX,
    TENANT_ID_LENGTH_MAX,
)
from rewardledger.storage.metadata import metadata
from rewardledger.storage.types import Json, UtcDateTime

PERIOD_KEY_LENGTH_MAX = 16
ALERT_KEY_LENGTH_MAX = 80


def _tenant() -> Column[str]:
    return Column("tenant_id", String(TENANT_ID_LENGTH_MAX), primary_key=True)


def _budget(primary: bool = True) -> Column[str]:
    return Column("budget_id", String(BUDGET_ID_LENGTH_MAX), primary_key=primary, nullable=False)


def _minor(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False, server_default=text("0"))


budgets = Table(
    "budgets",
    metadata,
    _tenant(),
    _budget(),
    Column("name", String(NAME_LENGTH_MAX), nullable=False),
    Column("currency", String(ASSET_CODE_LENGTH_MAX), nullable=False),
    Column("hard_cap_minor", BigInteger, nullable=False),
    Column("soft_cap_minor", BigInteger, nullable=False),
    Column("thresholds_percent", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("rollover", Boolean, nullable=False),
    Column("member_cap_amount_minor", BigInteger, nullable=True),
    Column("member_cap_count", BigInteger, nullable=True),
    Column("current_period", String(PERIOD_KEY_LENGTH_MAX), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["tenant_id", "currency"], ["assets.tenant_id", "assets.code"]),
    CheckConstraint(
        "hard_cap_minor > 0 AND soft_cap_minor > 0 AND soft_cap_minor <= hard_cap_minor",
        name="caps_ordered",
    ),
    sqlite_with_rowid=False,
)

budget_periods = Table(
    "budget_periods",
    metadata,
    _tenant(),
    _budget(),
    Column("period", String(PERIOD_KEY_LENGTH_MAX), primary_key=True),
    Column("account_id", String(ACCOUNT_ID_LENGTH_MAX), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    _minor("funded_minor"),
    _minor("rolled_in_minor"),
    _minor("rolled_out_minor"),
    _minor("reversed_funds_minor"),
    _minor("reversed_charges_minor"),
    _minor("reserved_total_minor"),
    _minor("rollovers_count"),
    ForeignKeyConstraint(["tenant_id", "budget_id"], ["budgets.tenant_id", "budgets.budget_id"]),
    sqlite_with_rowid=False,
)

budget_reservations = Table(
    "budget_reservations",
    metadata,
    _tenant(),
    _budget(),
    Column("reference", String(BUDGET_REFERENCE_LENGTH_MAX), primary_key=True),
    Column("transfer_id", String(DERIVED_ID_LENGTH_MAX), nullable=False),
    Column("period", String(PERIOD_KEY_LENGTH_MAX), nullable=False),
    Column("member_key", String(BUDGET_REFERENCE_LENGTH_MAX), nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["tenant_id", "budget_id"], ["budgets.tenant_id", "budgets.budget_id"]),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    Index("ix_budget_reservations_member", "tenant_id", "budget_id", "period", "member_key"),
    sqlite_with_rowid=False,
)

budget_alerts = Table(
    "budget_alerts",
    metadata,
    _tenant(),
    _budget(),
    Column("period", String(PERIOD_KEY_LENGTH_MAX), primary_key=True),
    Column("alert_key", String(ALERT_KEY_LENGTH_MAX), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("level", String(16), nullable=False),
    Column("threshold_percent", BigInteger, nullable=True),
    Column("details", Json(), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_budget_alerts_created", "tenant_id", "created_at"),
    sqlite_with_rowid=False,
)

budget_corrections = Table(
    "budget_corrections",
    metadata,
    _tenant(),
    Column("transfer_id", String(DERIVED_ID_LENGTH_MAX), primary_key=True),
    _budget(primary=False),
    Column("period", String(PERIOD_KEY_LENGTH_MAX), nullable=False),
    Column("reverses_id", String(DERIVED_ID_LENGTH_MAX), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("note", String(BUDGET_NOTE_LENGTH_MAX), nullable=False),
    Column("actor", String(NAME_LENGTH_MAX), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_budget_corrections_reverses", "tenant_id", "reverses_id"),
    sqlite_with_rowid=False,
)
