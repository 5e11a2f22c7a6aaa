"""The process's Prometheus metrics: what is counted where it happens.

Owns: the metric definitions (names, help, labels), so that every module that counts uses the
same ones: the HTTP app (requests, writes, refusals), the worker (due-job runs and failures)
and the relays of the event feed (deliveries). What is read at scrape time instead (outbox lag,
database pool use) is collected by ``http.metrics``, which also serves ``/metrics``.

Labels are never tenant ids or other values a caller chooses: routes are their templates and
codes are the stable error codes, so the number of series stays bounded.

Under ``serve --workers N`` each worker process counts in files under
``PROMETHEUS_MULTIPROC_DIR`` (which ``serve`` creates for the run) and ``/metrics`` sums them,
so any process answers a scrape with the totals of all.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import Counter, Histogram

from rewardledger.ledger.extensions import Port

REQUEST_SECONDS = Histogram(
    "rewardledger_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["route", "method", "status"],
)
WRITES = Counter(
    "rewardledger_writes",
    "Write requests (POST, PUT, PATCH, DELETE) answered with a success status, by route.",
    ["route"],
)
REFUSALS = Counter(
    "rewardledger_refusals",
    "Requests answered with a problem document, by its error code.",
    ["code"],
)
DELIVERIES = Counter(
    "rewardledger_deliveries",
    "Events handed to a sink of the event feed, by sink and result (delivered, failed).",
    ["sink", "result"],
)
JOB_RUNS = Counter(
    "rewardledger_job_runs",
    "Runs of a due-job step by the worker, one per tenant and due time, by step.",
    ["step"],
)
JOB_FAILURES = Counter(
    "rewardledger_job_failures",
    "Runs of a due-job step that failed, by step and error code.",
    ["step", "code"],
)
JOB_SECONDS = Histogram(
    "rewardledger_job_duration_seconds",
    "Time one run of a due-job step took, by step.",
    ["step"],
)


class PoolUse(Protocol):
    """How much of the database connection pool is in use (``storage.pool``)."""

    def pool_use(self) -> tuple[int, int]:
        """(connections checked out now, the pool's size)."""
        ...


POOL: Port[PoolUse] = Port("pool")
