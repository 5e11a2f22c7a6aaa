"""Due jobs: the failed steps of a tenant's due work, listed for the operator.

Revision ID: 0005_job_failures
Revises: 0004_cycles
Create Date: 2026-11-24

``job_failures`` holds one row per failure of a (tenant, step) while it lasts; the partial
unique index keeps at most one open (unresolved) failure per step, so runs that fail at once
count their attempts on one row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.builders import instant, string

revision = "0005_job_failures"
down_revision = "0004_cycles"
branch_labels = None
depends_on = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "job_failures",
        string("tenant_id", 64),
        string("failure_id", 32),
        string("step", 32),
        string("code", 64),
        sa.Column("message", sa.Text(), nullable=False),
        instant("first_failed_at"),
        instant("last_failed_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        instant("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "failure_id", name=op.f("pk_job_failures")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "uq_job_failures_open_step",
        "job_failures",
        ["tenant_id", "step"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_job_failures_last_failed_at",
        "job_failures",
        ["tenant_id", "last_failed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_job_failures_last_failed_at", table_name="job_failures")
    op.drop_index("uq_job_failures_open_step", table_name="job_failures")
    op.drop_table("job_failures")
