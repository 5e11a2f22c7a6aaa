"""The worker's ``nats`` step, as the worker runs it: every event of the tenant reaches the
real JetStream stream once, however often the step runs; it is registered only when the
settings turn it on. Both engines."""

from __future__ import annotations

from rewardledger.config import Settings
from rewardledger.ledger.engine import Ledger
from rewardledger.worker import STEPS, relays
from tests.builders import fund, programme
from tests.events.conftest import Stream, settle_feed


def test_the_nats_step_publishes_every_event_once(
    ledger: Ledger, tenant_id: str, stream: Stream
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    fund(ledger, p, p.wallets[0], "4.00")
    written = settle_feed(ledger, tenant_id)
    step = relays.NatsStep(stream.publisher)
    published = 0
    while (counts := step(ledger, tenant_id))["nats_events_published"]:
        published += counts["nats_events_published"]
    step(ledger, tenant_id)
    received = stream.read(tenant_id)
    assert published == written
    assert len(received) == written
    assert len({message.message_id for message in received}) == written


def test_the_nats_step_is_registered_only_when_the_settings_turn_it_on() -> None:
    relays.enable_from(Settings(relay_to_nats=False))
    assert "nats" not in STEPS
