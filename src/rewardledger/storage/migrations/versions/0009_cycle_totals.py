"""Running totals of each cashback (account, cycle), so an accrual stops summing history.

Revision ID: 0009_cycle_totals
Revises: 0008_append_only
Create Date: 2026-12-02

``cashback_totals`` holds per pair the spend and credited cashback so far, whether an override
was credited, and the latest cap snapshot with the occurrence and id of the movement that
carried it (the latest wins by occurrence, then id). An accrual locks its pair's row and reads
its totals in one statement. The rows are computed here from the movements already written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.builders import bigint, flag, instant, string

revision = "0009_cycle_totals"
down_revision = "0008_append_only"
branch_labels = None
depends_on = None

# The totals of the movements written so far (storage.cycles.totals rebuilds them the same way).
BACKFILL = """INSERT INTO cashback_totals (tenant_id, account_id, cycle_tag, spend_minor,
                             cashback_minor, overridden, cap_minor, cap_occurred_at,
                             cap_movement_id)
SELECT s.tenant_id, s.account_id, s.cycle_tag, s.spend, s.cashback, s.overridden,
       c.budget_cap_minor, c.occurred_at, c.movement_id
FROM (
  SELECT tenant_id, account_id, cycle_tag, sum(spend_minor) AS spend,
         sum(cashback_minor) AS cashback,
         max(CASE WHEN override THEN 1 ELSE 0 END) = 1 AS overridden
  FROM cashback_movements WHERE 1 = 1
  GROUP BY tenant_id, account_id, cycle_tag) AS s
LEFT JOIN (
  SELECT tenant_id, account_id, cycle_tag, budget_cap_minor, occurred_at, movement_id,
         row_number() OVER (PARTITION BY tenant_id, account_id, cycle_tag
                            ORDER BY occurred_at DESC, movement_id DESC) AS rank
  FROM cashback_movements WHERE budget_cap_minor IS NOT NULL AND 1 = 1) AS c
  ON c.tenant_id = s.tenant_id AND c.account_id = s.account_id AND c.cycle_tag = s.cycle_tag
  AND c.rank = 1"""


def upgrade() -> None:
    op.create_table(
        "cashback_totals",
        string("tenant_id", 64),
        string("account_id", 128),
        string("cycle_tag", 10),
        bigint("spend_minor"),
        bigint("cashback_minor"),
        flag("overridden"),
        bigint("cap_minor", nullable=True),
        instant("cap_occurred_at", nullable=True),
        string("cap_movement_id", 128, nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "account_id", "cycle_tag", name=op.f("pk_cashback_totals")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("cashback_totals")
