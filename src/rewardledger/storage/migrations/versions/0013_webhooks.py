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
    JSON_DOCUMENT,
    TIMESTAMP,
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
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", JSON_DOCUMENT, nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("previous_secret", sa.String(length=80), nullable=True),
        sa.Column("previous_secret_expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        key=["endpoint_id"],
    )
    tenant_table(
        "webhook_deliveries",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        key=["endpoint_id", "event_id"],
    )
    tenant_index("webhook_deliveries", "due", ["status", "next_attempt_at"])
    tenant_index("webhook_deliveries", "subject", ["endpoint_id", "subject_id", "txid", "position"])
    tenant_index("webhook_deliveries", "feed", ["endpoint_id", "txid", "position"])
    tenant_table(
        "webhook_attempts",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", TIMESTAMP, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.String(length=500), nullable=False),
        key=["endpoint_id", "event_id", "attempt"],
    )
    tenant_row_security(*TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
