"""Tables of webhooks (migration 0013_webhooks creates the same).

Owns: ``webhook_endpoints`` (a tenant's receivers: url, subscription, signing secrets),
``webhook_deliveries`` (one row per endpoint and event: its status, tries of this round, when
it is due, the lease of the worker sending it) and ``webhook_attempts`` (every HTTP call made
for a delivery, kept for the operator). Protects, at the database level: one delivery per
(tenant, endpoint, event), so a fan-out run twice adds nothing; one attempt row per number.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer

from rewardledger.domain.limits import DERIVED_ID_LENGTH_MAX
from rewardledger.domain.webhooks import (
    WEBHOOK_DESCRIPTION_LENGTH_MAX,
    WEBHOOK_ENDPOINT_ID_LENGTH_MAX,
    WEBHOOK_ERROR_LENGTH_MAX,
    WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX,
    WEBHOOK_SECRET_LENGTH_MAX,
    WEBHOOK_URL_LENGTH_MAX,
)
from rewardledger.storage.metadata import bigint, instant, key, string, tenant_table
from rewardledger.storage.types import Json

EVENT_ID_LENGTH = 36
EVENT_TYPE_LENGTH = 64
STATUS_LENGTH = 16
LEASE_TOKEN_LENGTH = 32

webhook_endpoints = tenant_table(
    "webhook_endpoints",
    key("endpoint_id", WEBHOOK_ENDPOINT_ID_LENGTH_MAX),
    string("url", WEBHOOK_URL_LENGTH_MAX),
    Column("event_types", Json(), nullable=False),
    string("description", WEBHOOK_DESCRIPTION_LENGTH_MAX),
    Column("enabled", Boolean, nullable=False),
    string("secret", WEBHOOK_SECRET_LENGTH_MAX),
    string("previous_secret", WEBHOOK_SECRET_LENGTH_MAX, nullable=True),
    instant("previous_secret_expires_at", nullable=True),
    instant("secret_rotated_at", nullable=True),
    instant("created_at"),
    instant("updated_at"),
)

webhook_deliveries = tenant_table(
    "webhook_deliveries",
    key("endpoint_id", WEBHOOK_ENDPOINT_ID_LENGTH_MAX),
    key("event_id", EVENT_ID_LENGTH),
    string("event_type", EVENT_TYPE_LENGTH),
    string("subject_id", DERIVED_ID_LENGTH_MAX),
    bigint("txid"),
    Column("position", BigInteger, nullable=False),
    string("status", STATUS_LENGTH),
    Column("tries", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    instant("next_attempt_at"),
    string("lease_token", LEASE_TOKEN_LENGTH, nullable=True),
    instant("lease_expires_at", nullable=True),
    instant("created_at"),
    instant("updated_at"),
    Index("ix_webhook_deliveries_due", "tenant_id", "status", "next_attempt_at"),
    Index(
        "ix_webhook_deliveries_subject",
        "tenant_id",
        "endpoint_id",
        "subject_id",
        "txid",
        "position",
    ),
    Index("ix_webhook_deliveries_feed", "tenant_id", "endpoint_id", "txid", "position"),
)

webhook_attempts = tenant_table(
    "webhook_attempts",
    key("endpoint_id", WEBHOOK_ENDPOINT_ID_LENGTH_MAX),
    key("event_id", EVENT_ID_LENGTH),
    Column("attempt", Integer, primary_key=True),
    instant("attempted_at"),
    Column("status_code", Integer, nullable=True),
    string("error", WEBHOOK_ERROR_LENGTH_MAX, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    string("response_excerpt", WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX),
)
