"""Webhooks: a tenant's endpoints, one delivery per endpoint and event, every attempt.

Revision ID: 0013_webhooks
Revises: 0012_event_feed
Create Date: 2026-12-02

``webhook_endpoints`` holds each receiver (url, subscribed event types, signing secret and,
during a rotation's overlap, the previous one). ``webhook_deliveries`` is keyed by (tenant,
endpoint, event): the fan-out inserts with ON CONFLICT DO NOTHING, so running it twice adds
nothing. ``webhook_attempts`` keeps every HTTP call made for a delivery. Row-level security on
all three, as on every tenant table (see 0010_row_security); the application role's grants
come from ``rewardledger db roles`` (``storage.roles``), which grants on every table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.builders import (
    bigint,
    document,
    flag,
    instant,
    string,
    tenant_index,
    tenant_row_security,
    tenant_table,
)

revision = "0013_webhooks"
down_revision = "0012_event_feed"
branch_labels = None
depends_on = None

TABLES = ("webhook_endpoints", "webhook_deliveries", "webhook_attempts")


def upgrade() -> None:
    tenant_table(
        "webhook_endpoints",
        string("endpoint_id", 40),
        string("url", 2048),
        document("event_types"),
        string("description", 500),
        flag("enabled"),
        string("secret", 80),
        string("previous_secret", 80, nullable=True),
        instant("previous_secret_expires_at", nullable=True),
        instant("created_at"),
        instant("updated_at"),
        key=["endpoint_id"],
    )
    tenant_table(
        "webhook_deliveries",
        string("endpoint_id", 40),
        string("event_id", 36),
        string("event_type", 64),
        string("subject_id", 128),
        bigint("txid"),
        bigint("position"),
        string("status", 16),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        instant("next_attempt_at"),
        string("lease_token", 32, nullable=True),
        instant("lease_expires_at", nullable=True),
        instant("created_at"),
        instant("updated_at"),
        key=["endpoint_id", "event_id"],
    )
    tenant_index("webhook_deliveries", "due", ["status", "next_attempt_at"])
    tenant_index("webhook_deliveries", "subject", ["endpoint_id", "subject_id", "txid", "position"])
    tenant_index("webhook_deliveries", "feed", ["endpoint_id", "txid", "position"])
    tenant_table(
        "webhook_attempts",
        string("endpoint_id", 40),
        string("event_id", 36),
        sa.Column("attempt", sa.Integer(), nullable=False),
        instant("attempted_at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        string("error", 500, nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        string("response_excerpt", 500),
        key=["endpoint_id", "event_id", "attempt"],
    )
    tenant_row_security(*TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
