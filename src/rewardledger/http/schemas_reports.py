"""Schemas of the reports of HTTP API v1: integrity and repair reports, health and problems.

Owns: the ``*Public`` models a client reads back from ``verify``, ``repair``, the health check
and every error answer (RFC 9457 problems carrying the stable ``code``). Re-exported by
``rewardledger.http.schemas``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from rewardledger.http.examples import core as samples
from rewardledger.http.examples import example
from rewardledger.http.public import ViewPublic


class DiscrepancyPublic(ViewPublic, json_schema_extra=example(samples.DISCREPANCY)):
    check: str
    subject: str
    field: str | None
    journal: str | None
    materialized: str | None


class IntegrityReportPublic(ViewPublic, json_schema_extra=example(samples.INTEGRITY_REPORT)):
    """``discrepancies`` lists the first ones found; ``discrepancy_count`` counts them all."""

    tenant_id: str
    checked_at: datetime
    accounts_checked: int
    ok: bool
    discrepancy_count: int
    discrepancies: list[DiscrepancyPublic]


class RepairReportPublic(ViewPublic, json_schema_extra=example(samples.REPAIR_REPORT)):
    """``changes`` lists the first values rebuilt; ``change_count`` counts them all."""

    tenant_id: str
    repair_id: str
    actor: str
    started_at: datetime
    finished_at: datetime
    accounts_checked: int
    change_count: int
    changes: list[DiscrepancyPublic]


class HealthPublic(BaseModel, json_schema_extra=example(samples.HEALTH)):
    status: str


class ProblemPublic(BaseModel):
    """Every error: RFC 9457 members, the stable ``code``, and the error's context fields."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
