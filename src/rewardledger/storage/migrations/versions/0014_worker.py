"""The worker's claims: when each due step of a tenant runs next, and who holds it now.

Revision ID: 0014_worker
Revises: 0013_webhooks
Create Date: 2026-12-02

``worker_runs`` has one row per (tenant, step) that a ``rewardledger worker`` (or the worker
embedded in ``serve``) has scheduled: ``next_run_at`` is the step's next due time;
``claimed_by`` and ``lease_until`` name the worker running it and until when its claim holds.
Claims are taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never run
a step of a tenant twice for one due time; a worker that dies leaves a lease that runs out.
Row-level security as every tenant table (see 0010_row_security).
"""

from __future__ import annotations

from alembic import op

from rewardledger.storage.migrations.builders import (
    instant,
    string,
    tenant_row_security,
    tenant_table,
)

revision = "0014_worker"
down_revision = "0013_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tenant_table(
        "worker_runs",
        string("step", 32),
        instant("next_run_at"),
        string("claimed_by", 128, nullable=True),
        instant("lease_until", nullable=True),
        key=["step"],
    )
    tenant_row_security("worker_runs")


def downgrade() -> None:
    op.drop_table("worker_runs")
