"""The worker's relay steps: the event feed carried to its sinks, each on its own schedule.

Owns: the steps ``webhooks`` (the fan-out of new events into deliveries, then a pass that sends
what is due) and their counts in the metrics (``rewardledger_deliveries`` by sink and result).
Each step is safe to run twice and from two workers at once: the fan-out holds its sink's
claim and writes deliveries under their (endpoint, event) key, and a delivery pass claims
each delivery with a lease (see ``events.webhooks``).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2

from rewardledger import metrics
from rewardledger.events import webhooks
from rewardledger.ledger.engine import Ledger
from rewardledger.worker.steps import Step, register

RELAY_INTERVAL_SECONDS = 5


def _webhooks(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
    fanned = webhooks.fan_out(ledger, tenant_id)
    with httpx2.Client() as client:
        counts = webhooks.deliver_due(ledger, tenant_id, http_client=client)
    metrics.DELIVERIES.labels("webhooks", "delivered").inc(counts.delivered)
    metrics.DELIVERIES.labels("webhooks", "failed").inc(counts.failed)
    return {"webhook_events_fanned_out": fanned.delivered, **counts.as_dict()}


register(Step("webhooks", RELAY_INTERVAL_SECONDS, _webhooks))
