"""The worker's relay steps: the event feed carried to its sinks, each on its own schedule.

Owns: the steps ``webhooks`` (the fan-out of new events into deliveries, then a pass that sends
what is due) and ``nats`` (every event published to JetStream; registered only when the
settings turn it on, ``REWARDLEDGER_RELAY_TO_NATS``, since it needs a broker), and their counts
in the metrics (``rewardledger_deliveries`` by sink and result).
Each step is safe to run twice and from two workers at once: the fan-out holds its sink's
claim and writes deliveries under their (endpoint, event) key, and a delivery pass claims
each delivery with a lease (see ``events.webhooks``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping

import httpx2

from rewardledger import metrics
from rewardledger.config import Settings
from rewardledger.domain.webhooks import WEBHOOK_TIMEOUT_SECONDS
from rewardledger.events import webhooks
from rewardledger.events.nats import NatsPublisher, relay_to_nats
from rewardledger.ledger.engine import Ledger
from rewardledger.worker.steps import STEPS, Step, register

RELAY_INTERVAL_SECONDS = 5


@functools.cache
def _http_client() -> httpx2.Client:
    """One client per process, kept for its life: each pass, for every tenant, reuses the
    connections to the receivers instead of opening (and TLS-handshaking) them again."""
    return httpx2.Client()


class WebhooksStep:
    """The ``webhooks`` step: fan out, then one delivery pass with the call timeout and the
    delivery lease the settings give (``REWARDLEDGER_WEBHOOK_TIMEOUT_SECONDS`` and
    ``_LEASE_SECONDS``; the defaults of ``events.webhooks`` until ``enable_from``)."""

    def __init__(self) -> None:
        self.timeout_seconds = WEBHOOK_TIMEOUT_SECONDS
        self.lease_seconds: float | None = None

    def __call__(self, ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
        fanned = webhooks.fan_out(ledger, tenant_id)
        counts = webhooks.deliver_due(
            ledger,
            tenant_id,
            http_client=_http_client(),
            timeout_seconds=self.timeout_seconds,
            lease_seconds=self.lease_seconds,
        )
        metrics.DELIVERIES.labels("webhooks", "delivered").inc(counts.delivered)
        metrics.DELIVERIES.labels("webhooks", "failed").inc(counts.failed)
        return {"webhook_events_fanned_out": fanned.delivered, **counts.as_dict()}


WEBHOOKS = WebhooksStep()
register(Step("webhooks", RELAY_INTERVAL_SECONDS, WEBHOOKS))


class NatsStep:
    """The ``nats`` step: one publisher (one connection) per process, made on first use by
    ``make_publisher``."""

    def __init__(self, make_publisher: Callable[[], NatsPublisher]) -> None:
        self._make_publisher = make_publisher
        self._publisher: NatsPublisher | None = None
        self._lock = threading.Lock()

    def __call__(self, ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
        with self._lock:
            if self._publisher is None:
                self._publisher = self._make_publisher()
            publisher = self._publisher
        try:
            report = relay_to_nats(ledger, tenant_id, publisher=publisher)
        except Exception:
            metrics.DELIVERIES.labels("nats", "failed").inc()
            raise
        metrics.DELIVERIES.labels("nats", "delivered").inc(report.delivered)
        return {"nats_events_published": report.delivered, "nats_sink_busy": int(report.busy)}


def enable_from(settings: Settings) -> None:
    """Register the steps the settings turn on (the ``nats`` step), once per process, and
    give the ``webhooks`` step its timeout and lease."""
    WEBHOOKS.timeout_seconds = settings.webhook_timeout_seconds
    WEBHOOKS.lease_seconds = settings.webhook_lease_seconds
    if settings.relay_to_nats and "nats" not in STEPS:
        step = NatsStep(lambda: NatsPublisher.from_settings(settings))
        register(Step("nats", RELAY_INTERVAL_SECONDS, step))
