"""The tables of campaign budgets (see ``rewardledger.services.budgets``).

Owns: budgets, their periods' counters, reservations by reference, alerts and the audit trail
of corrections. The money itself is in the core's accounts and journal: one account per
(budget, period), so that the account's totals are the period's reserved and charged figures.
Protects, at the database level: one reservation per (budget, reference); one alert per
(budget, period, alert key) (the key names the crossing, so a line alerts once per
crossing); corrections and fixes are append-only (triggers in migrations 0002 and 0005).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    String,
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
)
from rewardledger.storage.metadata import bigint, counter, flag, instant, key, string, tenant_table
from rewardledger.storage.types import Json

PERIOD_KEY_LENGTH_MAX = 16
ALERT_KEY_LENGTH_MAX = 80

budgets = tenant_table(
    "budgets",
    key("budget_id", BUDGET_ID_LENGTH_MAX),
    string("name", NAME_LENGTH_MAX),
    string("currency", ASSET_CODE_LENGTH_MAX),
    bigint("hard_cap_minor"),
    bigint("soft_cap_minor"),
    string("thresholds_percent", 64),
    string("period", 16),
    flag("rollover"),
    bigint("member_cap_amount_minor", nullable=True),
    bigint("member_cap_count", nullable=True),
    string("current_period", PERIOD_KEY_LENGTH_MAX, nullable=True),
    instant("created_at"),
    Column("funding", String(16), nullable=False, server_default=text("'prefunded'")),
    ForeignKeyConstraint(["tenant_id", "currency"], ["assets.tenant_id", "assets.code"]),
    CheckConstraint(
        "hard_cap_minor > 0 AND soft_cap_minor > 0 AND soft_cap_minor <= hard_cap_minor",
        name="caps_ordered",
    ),
)

budget_periods = tenant_table(
    "budget_periods",
    key("budget_id", BUDGET_ID_LENGTH_MAX),
    key("period", PERIOD_KEY_LENGTH_MAX),
    string("account_id", ACCOUNT_ID_LENGTH_MAX),
    instant("opened_at"),
    counter("funded_minor"),
    counter("rolled_in_minor"),
    counter("rolled_out_minor"),
    counter("reversed_funds_minor"),
    counter("reversed_charges_minor"),
    counter("reserved_total_minor"),
    counter("rollovers_count"),
    string("reset_key", BUDGET_REFERENCE_LENGTH_MAX, nullable=True),
    ForeignKeyConstraint(["tenant_id", "budget_id"], ["budgets.tenant_id", "budgets.budget_id"]),
)

budget_reservations = tenant_table(
    "budget_reservations",
    key("budget_id", BUDGET_ID_LENGTH_MAX),
    key("reference", BUDGET_REFERENCE_LENGTH_MAX),
    string("transfer_id", DERIVED_ID_LENGTH_MAX),
    string("period", PERIOD_KEY_LENGTH_MAX),
    string("member_key", BUDGET_REFERENCE_LENGTH_MAX, nullable=True),
    bigint("amount_minor"),
    instant("expires_at", nullable=True),
    instant("created_at"),
    ForeignKeyConstraint(["tenant_id", "budget_id"], ["budgets.tenant_id", "budgets.budget_id"]),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    Index("ix_budget_reservations_member", "tenant_id", "budget_id", "period", "member_key"),
)

budget_alerts = tenant_table(
    "budget_alerts",
    key("budget_id", BUDGET_ID_LENGTH_MAX),
    key("period", PERIOD_KEY_LENGTH_MAX),
    key("alert_key", ALERT_KEY_LENGTH_MAX),
    string("kind", 64),
    string("level", 16),
    bigint("threshold_percent", nullable=True),
    Column("details", Json(), nullable=False),
    instant("created_at"),
    Index("ix_budget_alerts_created", "tenant_id", "created_at"),
)

budget_corrections = tenant_table(
    "budget_corrections",
    key("transfer_id", DERIVED_ID_LENGTH_MAX),
    string("budget_id", BUDGET_ID_LENGTH_MAX),
    string("period", PERIOD_KEY_LENGTH_MAX),
    string("reverses_id", DERIVED_ID_LENGTH_MAX),
    bigint("amount_minor"),
    string("note", BUDGET_NOTE_LENGTH_MAX),
    string("actor", NAME_LENGTH_MAX),
    instant("created_at"),
    Index("ix_budget_corrections_reverses", "tenant_id", "reverses_id"),
    # A budget's list of corrections (migration 0016).
    Index("ix_budget_corrections_budget", "tenant_id", "budget_id", "created_at", "transfer_id"),
)

# The audit trail of fixes of a period's counters (append-only: migration 0005).
budget_fixes = tenant_table(
    "budget_fixes",
    key("budget_id", BUDGET_ID_LENGTH_MAX),
    key("fix_key", BUDGET_REFERENCE_LENGTH_MAX),
    key("period", PERIOD_KEY_LENGTH_MAX),
    key("figure", 32),
    bigint("before_minor"),
    bigint("after_minor"),
    string("note", BUDGET_NOTE_LENGTH_MAX),
    string("actor", NAME_LENGTH_MAX),
    instant("created_at"),
)
