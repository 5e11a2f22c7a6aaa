"""Tables of the due jobs (migration 0005_job_failures creates the same).

Owns: ``job_failures``, the steps of a tenant's due work that failed. Protects, at the
database level: at most one open failure (``resolved_at`` NULL) per (tenant, step), so that two
runs failing at once count attempts on one row.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Text, text

from rewardledger.domain.limits import JOB_STEP_LENGTH_MAX
from rewardledger.storage.metadata import instant, key, string, tenant_table

FAILURE_ID_LENGTH = 32
CODE_LENGTH = 64
OPEN = text("resolved_at IS NULL")

job_failures = tenant_table(
    "job_failures",
    key("failure_id", FAILURE_ID_LENGTH),
    string("step", JOB_STEP_LENGTH_MAX),
    string("code", CODE_LENGTH),
    Column("message", Text, nullable=False),
    instant("first_failed_at"),
    instant("last_failed_at"),
    Column("attempts", Integer, nullable=False),
    instant("resolved_at", nullable=True),
    Index(
        "uq_job_failures_open_step",
        "tenant_id",
        "step",
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    ),
    Index("ix_job_failures_last_failed_at", "tenant_id", "last_failed_at"),
)
