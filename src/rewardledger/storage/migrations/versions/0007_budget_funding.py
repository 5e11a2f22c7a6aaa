"""Budgets as the seeds read them: funding on demand, on-demand resets, audited fixes.

Revision ID: 0007_budget_funding
Revises: 0006_seed_views
Create Date: 2026-11-23

``budgets.funding`` is ``prefunded`` (reserves need a top-up first; every existing budget) or
``on_demand`` (capped but not pre-funded: a reserve draws what it needs from the tenant's
funding account, up to the hard cap). ``budget_periods.reset_key`` is the idempotency key of
the on-demand reset that opened the period. ``budget_fixes`` is the audit trail of fixes of a
period's counters (who, why, before, after): append-only on both engines, like corrections.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.append_only import refuse_changes
from rewardledger.storage.migrations.builders import bigint, instant, string

revision = "0007_budget_funding"
down_revision = "0006_seed_views"
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = (
    "budget fixes are an audit trail: they cannot be updated or deleted; record another fix instead"
)


def upgrade() -> None:
    op.add_column(
        "budgets",
        sa.Column(
            "funding", sa.String(length=16), nullable=False, server_default=sa.text("'prefunded'")
        ),
    )
    op.add_column("budget_periods", string("reset_key", 64, nullable=True))
    op.create_table(
        "budget_fixes",
        string("tenant_id", 64),
        string("budget_id", 40),
        string("fix_key", 64),
        string("period", 16),
        string("figure", 32),
        bigint("before_minor"),
        bigint("after_minor"),
        string("note", 1000),
        string("actor", 200),
        instant("created_at"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "budget_id", "fix_key", "period", "figure", name=op.f("pk_budget_fixes")
        ),
        sqlite_with_rowid=False,
    )
    refuse_changes("rewardledger_budget_fixes_append_only", ("budget_fixes",), APPEND_ONLY_MESSAGE)


def downgrade() -> None:
    raise NotImplementedError("0007_budget_funding is not reversible; restore a backup instead")
