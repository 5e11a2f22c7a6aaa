"""Expiring-soon reminders sent: one row per (tenant, asset, holder, expiry date, days ahead).

Revision ID: 0016_points_reminders
Revises: 0015_client
Create Date: 2026-12-02

The ``points_reminders`` step writes a ``points.expiring_soon`` event for the lots of a holder
that expire within N days, and a row here in the same transaction. The key is the guarantee:
a second run, or a second worker at the same moment, inserts nothing (``ON CONFLICT DO
NOTHING``, which on PostgreSQL waits for the first writer's commit) and so writes no second
event. ``amount_minor`` is what the reminder announced. Row-level security as every tenant
table (see 0010_row_security).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.builders import (
    bigint,
    instant,
    string,
    tenant_row_security,
    tenant_table,
)

revision = "0016_points_reminders"
down_revision = "0015_client"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tenant_table(
        "points_reminders",
        string("asset_code", 16),
        string("holder_id", 96),
        string("expires_on", 10),
        sa.Column("days_ahead", sa.Integer(), nullable=False),
        bigint("amount_minor"),
        instant("reminded_at"),
        key=["asset_code", "holder_id", "expires_on", "days_ahead"],
    )
    tenant_row_security("points_reminders")


def downgrade() -> None:
    op.drop_table("points_reminders")
