"""``/metrics`` in the Prometheus text format, and the ASGI guard that times every request.

Owns: what is read at scrape time (the outbox lag per sink, the connection pool's use) and the
exposition of everything ``rewardledger.metrics`` counts. Under ``serve --workers N``
(``PROMETHEUS_MULTIPROC_DIR`` set) the counters and histograms are summed over the files of
every worker process, so whichever process answers gives the totals; the pool gauges are the
answering process's own.

The outbox lag of a sink is the age, in seconds, of the oldest event it has not been handed,
the largest over the tenants (0 when it is up to date): a sink any tenant's relay has moved is
known to every tenant, so a tenant whose relay never ran counts from the start of its feed.
No label names a tenant: ``/metrics`` is open, as ``/healthz`` is (docs/operations.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rewardledger import metrics
from rewardledger.events import STORE as EVENTS
from rewardledger.events import health
from rewardledger.ledger.engine import Ledger

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNMATCHED_ROUTE = "unmatched"


def outbox_lag_seconds(ledger: Ledger) -> dict[str, float]:
    """sink -> age in seconds of the oldest event not yet handed to it, over every tenant."""
    store = ledger.extension(EVENTS)
    tenant_ids = [tenant.id for tenant in ledger.list_tenants()]
    places = {tenant_id: store.sink_positions(tenant_id) for tenant_id in tenant_ids}
    sinks = sorted({sink for found in places.values() for sink in found})
    lag = dict.fromkeys(sinks, 0.0)
    for tenant_id in tenant_ids:
        found = health.outbox_lag_seconds(ledger, tenant_id, sinks, places[tenant_id])
        for sink, age in found.items():
            lag[sink] = max(lag[sink], age)
    return lag


class _AtScrape(Collector):
    """The gauges read from the database and the pool when scraped."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "rewardledger_outbox_lag_seconds",
            "Age of the oldest event a sink has not been handed yet (0: up to date), by sink.",
            labels=["sink"],
        )
        for sink, seconds in outbox_lag_seconds(self.ledger).items():
            lag.add_metric([sink], seconds)
        yield lag
        checked_out, size = self.ledger.extension(metrics.POOL).pool_use()
        yield GaugeMetricFamily(
            "rewardledger_db_pool_checked_out",
            "Database connections in use by this process now.",
            value=checked_out,
        )
        yield GaugeMetricFamily(
            "rewardledger_db_pool_size", "Connections this process's pool keeps.", value=size
        )


def exposition(ledger: Ledger, multiprocess_dir: Path | None) -> bytes:
    """The text a scrape of ``/metrics`` gets."""
    if multiprocess_dir is not None:
        counted = CollectorRegistry()
        MultiProcessCollector(counted, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    at_scrape = CollectorRegistry(auto_describe=False)
    at_scrape.register(_AtScrape(ledger))
    return generate_latest(counted) + generate_latest(at_scrape)


class Instrument:
    """Time every HTTP request and count the writes, by route template (never the raw path,
    which holds ids) and status. Outermost, so that it sees the status actually sent.

    The route a request matched holds its path as declared in its router; the routers included
    under ``api_prefix`` are given it back here, so a template reads as the URL does."""

    def __init__(self, app: ASGIApp, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if nothing was sent (the server drops it)

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            template = self._template(scope)
            method = str(scope.get("method", ""))
            metrics.REQUEST_SECONDS.labels(template, method, str(status)).observe(
                time.perf_counter() - started
            )
            if method in WRITE_METHODS and status < 400:
                metrics.WRITES.labels(template).inc()

    def _template(self, scope: Scope) -> str:
        declared = getattr(scope.get("route"), "path", None)
        if not isinstance(declared, str):
            return UNMATCHED_ROUTE
        prefixed = str(scope.get("path", "")).startswith(f"{self.api_prefix}/")
        if prefixed and not declared.startswith(f"{self.api_prefix}/"):
            return self.api_prefix + declared
        return declared
