"""The worker's webhooks step, as the worker runs it: new events reach a real receiver,
signed, once, however often the step runs; the deliveries metric counts them. Both engines."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from rewardledger.events.webhooks import add_endpoint
from rewardledger.ledger.engine import Ledger
from rewardledger.worker import STEPS
from tests.builders import fund, programme
from tests.webhook_receiver import receiving

FEED_WAIT_SECONDS = 30  # the PostgreSQL feed holds events back while older transactions run


def _delivered() -> float:
    value = REGISTRY.get_sample_value(
        "rewardledger_deliveries_total", {"sink": "webhooks", "result": "delivered"}
    )
    return value or 0.0


def test_the_webhooks_step_delivers_each_new_event_once(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    before = _delivered()
    with receiving() as receiver:
        added = add_endpoint(ledger, tenant_id, url=receiver.url, event_types=["transfer.posted"])
        fund(ledger, p, p.wallets[0], "3.00")
        deadline = time.monotonic() + FEED_WAIT_SECONDS
        while not receiver.requests and time.monotonic() < deadline:
            STEPS["webhooks"].run(ledger, tenant_id)
            time.sleep(0.2)
        counts = STEPS["webhooks"].run(ledger, tenant_id)
    assert counts["claimed"] == 0
    (request,) = receiver.requests
    document = Webhook(added.secret).verify(request.body, request.headers)
    assert document["type"] == "transfer.posted"
    assert _delivered() - before == 1
