"""Tables of the cashback and debt cycles (migration 0004_cycles creates the same).

Owns: the programmes, the append-only movement tables (``cashback_movements``,
``debt_movements``: refused UPDATE and DELETE by triggers, like the journal), the dirty marks
and the two projections ``cashback_ledger`` and ``debt_ledger`` (the seeds' columns, amounts in
integer minor units). Protects: a dirty mark is written in the same transaction as its
movement; its ``token`` changes on every write so that a refresh deletes only the mark it read.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, SmallInteger, Text

from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
)
from rewardledger.storage.metadata import bigint, flag, instant, key, string, tenant_table

TAG_LENGTH = 10
ENUM_LENGTH = 16

cycle_settings = tenant_table(
    "cycle_settings",
    string("refresh_mode", ENUM_LENGTH),
    instant("updated_at"),
)

cashback_programs = tenant_table(
    "cashback_programs",
    string("currency", ASSET_CODE_LENGTH_MAX),
    bigint("minimum_spend_minor"),
    bigint("default_cap_minor"),
    Column("grace_days", SmallInteger, nullable=False),
    instant("updated_at"),
)

cashback_accounts = tenant_table(
    "cashback_accounts",
    key("account_id", ACCOUNT_ID_LENGTH_MAX),
    bigint("default_cap_minor", nullable=True),
    flag("enrolled"),
    instant("updated_at"),
)

debt_programs = tenant_table(
    "debt_programs",
    string("currency", ASSET_CODE_LENGTH_MAX),
    Column("closing_day", SmallInteger, nullable=False),
    Column("due_day", SmallInteger, nullable=False),
    Column("grace_days", SmallInteger, nullable=False),
    instant("updated_at"),
)

cashback_movements = tenant_table(
    "cashback_movements",
    key("movement_id", DERIVED_ID_LENGTH_MAX),
    string("account_id", ACCOUNT_ID_LENGTH_MAX),
    string("cycle_tag", TAG_LENGTH),
    string("kind", ENUM_LENGTH),
    # Signed: a reversal carries the negated spend and cashback of the accrual it reverses.
    bigint("spend_minor"),
    bigint("requested_minor"),
    bigint("cashback_minor"),
    bigint("budget_cap_minor", nullable=True),
    flag("override"),
    string("reverses_id", DERIVED_ID_LENGTH_MAX, nullable=True),
    string("transfer_id", DERIVED_ID_LENGTH_MAX, nullable=True),
    instant("occurred_at"),
    instant("recorded_at"),
    Index("ix_cashback_movements_pair", "tenant_id", "account_id", "cycle_tag"),
)

debt_movements = tenant_table(
    "debt_movements",
    key("movement_id", DERIVED_ID_LENGTH_MAX),
    string("person_id", ACCOUNT_ID_LENGTH_MAX),
    string("cycle_tag", TAG_LENGTH),
    string("kind", ENUM_LENGTH),
    bigint("amount_minor"),
    instant("due_at", nullable=True),
    string("transfer_id", DERIVED_ID_LENGTH_MAX, nullable=True),
    instant("occurred_at"),
    instant("recorded_at"),
    Index("ix_debt_movements_pair", "tenant_id", "person_id", "cycle_tag"),
)

cycle_dirty = tenant_table(
    "cycle_dirty",
    key("ledger", ENUM_LENGTH),
    key("holder_id", ACCOUNT_ID_LENGTH_MAX),
    key("cycle_tag", TAG_LENGTH),
    string("token", 32),
)

cashback_ledger = tenant_table(
    "cashback_ledger",
    key("account_id", ACCOUNT_ID_LENGTH_MAX),
    key("cycle_tag", TAG_LENGTH),
    string("cashback_ledger_id", 36),
    bigint("total_spend_minor"),
    bigint("total_cashback_minor"),
    bigint("budget_cap_minor"),
    string("eligibility", ENUM_LENGTH),
    bigint("remaining_budget_minor"),
    string("status", ENUM_LENGTH),
    Column("notes", Text, nullable=True),
    instant("last_updated"),
    Index("ix_cashback_ledger_cycle", "tenant_id", "cycle_tag"),
)

debt_ledger = tenant_table(
    "debt_ledger",
    key("person_id", ACCOUNT_ID_LENGTH_MAX),
    key("cycle_tag", TAG_LENGTH),
    string("debt_ledger_id", 36),
    bigint("initial_debt_minor"),
    bigint("new_debt_minor"),
    bigint("repayments_minor"),
    bigint("debt_discount_minor"),
    bigint("net_debt_minor"),
    string("status", ENUM_LENGTH),
    instant("due_at"),
    Column("notes", Text, nullable=True),
    instant("last_updated"),
    Index("ix_debt_ledger_cycle", "tenant_id", "cycle_tag"),
)

# The running totals of each (account, cycle) of cashback movements (migration 0010): what an
# accrual's cap check reads, on the row it locks, instead of summing the pair's history. Kept
# by every cashback movement in its own transaction; ``rebuild_cashback_totals`` recomputes
# them from the movements. The cap snapshot is the latest movement's (by occurrence, then id)
# that carried one.
cashback_totals = tenant_table(
    "cashback_totals",
    key("account_id", ACCOUNT_ID_LENGTH_MAX),
    key("cycle_tag", TAG_LENGTH),
    bigint("spend_minor"),
    bigint("cashback_minor"),
    flag("overridden"),
    bigint("cap_minor", nullable=True),
    instant("cap_occurred_at", nullable=True),
    string("cap_movement_id", DERIVED_ID_LENGTH_MAX, nullable=True),
)
