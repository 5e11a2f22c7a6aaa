"""``GET /metrics``: the process's metrics in the Prometheus text format (``http.metrics``).

Open like ``/healthz``: no label names a tenant, so a scrape shows nothing a tenant wrote; keep
the port off the public network as for any metrics endpoint (docs/operations.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from rewardledger.http import metrics
from rewardledger.http.deps import LedgerDep, SettingsDep
from rewardledger.http.problems import documented

router = APIRouter(tags=["health"])

EXAMPLE = """\
# HELP rewardledger_writes_total Write requests (POST, PUT, PATCH, DELETE) answered with a \
success status, by route.
# TYPE rewardledger_writes_total counter
rewardledger_writes_total{route="/v1/tenants/{tenant_id}/transfers"} 12.0
# HELP rewardledger_outbox_lag_seconds Age of the oldest event a sink has not been handed \
yet (0: up to date), by sink.
# TYPE rewardledger_outbox_lag_seconds gauge
rewardledger_outbox_lag_seconds{sink="nats"} 0.0
"""


@router.get(
    "/metrics",
    summary="Metrics in the Prometheus text format",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"example": EXAMPLE}}},
        **documented("database_unavailable"),
    },
)
def metrics_text(ledger: LedgerDep, settings: SettingsDep) -> Response:
    """Request latency by route and status, writes and refusals by code, outbox lag per sink,
    deliveries by sink and result, due-job runs and failures by step, the pool's use."""
    body = metrics.exposition(ledger, settings.metrics_dir)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
