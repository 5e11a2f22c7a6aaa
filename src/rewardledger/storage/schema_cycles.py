"""Tables of the cashback and debt cycles (migration 0004_cycles creates the same).

Owns: the programmes, the append-only movement tables (``cashback_movements``,
``debt_movements``: refused UPDATE and DELETE by triggers, like the journal), the dirty marks
and the two projections ``cashback_ledger`` and ``debt_ledger`` (the seeds' columns, amounts in
integer minor units). Protects: a dirty mark is written in the same transaction as its
movement; its ``token`` changes on every write so that a refresh deletes only the mark it read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, SmallInteger, Table, Text

from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
)
from rewardledger.storage.metadata import bigint, flag, instant, key, string, tenant_table

TAG_LENGTH = 10
ENUM_LENGTH = 16


def _movement_table(name: str, holder: str, *amounts: Column[Any]) -> Table:
    """An append-only movement table: the movement's id, its (holder, cycle) pair and kind,
    ``amounts``, the journal transfer it posted (none when nothing moved), and when it
    occurred and was recorded."""
    return tenant_table(
        name,
        key("movement_id", DERIVED_ID_LENGTH_MAX),
        string(holder, ACCOUNT_ID_LENGTH_MAX),
        string("cycle_tag", TAG_LENGTH),
        string("kind", ENUM_LENGTH),
        *amounts,
        string("transfer_id", DERIVED_ID_LENGTH_MAX, nullable=True),
        instant("occurred_at"),
        instant("recorded_at"),
        Index(f"ix_{name}_pair", "tenant_id", holder, "cycle_tag"),
    )


def _ledger_table(name: str, holder: str, *values: Column[Any]) -> Table:
    """A projection: one row per (holder, cycle) with the seed's id (``<name>_id``) and
    ``values``, its notes and when it was last written."""
    return tenant_table(
        name,
        key(holder, ACCOUNT_ID_LENGTH_MAX),
        key("cycle_tag", TAG_LENGTH),
        string(f"{name}_id", 36),
        *values,
        Column("notes", Text, nullable=True),
        instant("last_updated"),
        Index(f"ix_{name}_cycle", "tenant_id", "cycle_tag"),
    )


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

cashback_movements = _movement_table(
    "cashback_movements",
    "account_id",
    # Signed: a reversal carries the negated spend and cashback of the accrual it reverses.
    bigint("spend_minor"),
    bigint("requested_minor"),
    bigint("cashback_minor"),
    bigint("budget_cap_minor", nullable=True),
    flag("override"),
    string("reverses_id", DERIVED_ID_LENGTH_MAX, nullable=True),
)

debt_movements = _movement_table(
    "debt_movements", "person_id", bigint("amount_minor"), instant("due_at", nullable=True)
)

cycle_dirty = tenant_table(
    "cycle_dirty",
    key("ledger", ENUM_LENGTH),
    key("holder_id", ACCOUNT_ID_LENGTH_MAX),
    key("cycle_tag", TAG_LENGTH),
    string("token", 32),
)

cashback_ledger = _ledger_table(
    "cashback_ledger",
    "account_id",
    bigint("total_spend_minor"),
    bigint("total_cashback_minor"),
    bigint("budget_cap_minor"),
    string("eligibility", ENUM_LENGTH),
    bigint("remaining_budget_minor"),
    string("status", ENUM_LENGTH),
)

debt_ledger = _ledger_table(
    "debt_ledger",
    "person_id",
    bigint("initial_debt_minor"),
    bigint("new_debt_minor"),
    bigint("repayments_minor"),
    bigint("debt_discount_minor"),
    bigint("net_debt_minor"),
    string("status", ENUM_LENGTH),
    instant("due_at"),
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
