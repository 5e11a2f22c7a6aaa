"""The NATS JetStream sink: every event of a tenant's feed published to
``<prefix>.<tenant>.<type>`` (prefix ``rewardledger``) with its event id as ``Nats-Msg-Id``.

Owns: the connection to NATS (one asyncio loop on a thread of its own, so the sync relay can
use it), the stream (created if missing, subjects ``<prefix>.>``) and the relay step of the
sink "nats". Protects: a broker outage delays, never loses: ``publish`` returns only once the
stream acknowledged every message of the batch, else it raises and ``relay_batch`` keeps the
sink's place, so the batch is published again next time. A republish of an event within the
stream's duplicate window (``DUPLICATE_WINDOW_SECONDS``) is dropped by the stream, since it
carries the same message id; past the window a consumer de-duplicates on the envelope's ``id``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from rewardledger.config import Settings
from rewardledger.events.envelope import envelope_json
from rewardledger.events.relay import RELAY_BATCH_SIZE_DEFAULT, RelayReport, relay_batch
from rewardledger.events.views import StoredEvent
from rewardledger.ledger.engine import Ledger

NATS_SINK = "nats"
SUBJECT_PREFIX_DEFAULT = "rewardledger"
# The stream drops a message whose Nats-Msg-Id it saw this recently: a relay that died after
# publishing and came back within the hour publishes nothing twice.
DUPLICATE_WINDOW_SECONDS = 3_600
# How long a connection, and the acknowledgements of one batch, may take before the batch
# counts as not delivered.
CONNECT_TIMEOUT_SECONDS = 5.0
ACK_TIMEOUT_SECONDS = 10.0
RECONNECT_WAIT_SECONDS = 0.5
RECONNECT_ATTEMPTS_MAX = 3

T = TypeVar("T")


class NatsUnavailable(ConnectionError):
    """NATS could not be reached, or did not acknowledge a batch in time: nothing moved, the
    batch is published again by the next relay step."""


@dataclass(frozen=True, slots=True)
class NatsMessage:
    subject: str
    data: bytes
    message_id: str


def subject_of(tenant_id: str, event_type: str, prefix: str = SUBJECT_PREFIX_DEFAULT) -> str:
    """The subject an event is published to (tenant ids and event types hold no ``*``/``>``
    or spaces, so every token is literal)."""
    return f"{prefix}.{tenant_id}.{event_type}"


def message_of(
    tenant_id: str, event: StoredEvent, prefix: str = SUBJECT_PREFIX_DEFAULT
) -> NatsMessage:
    data = envelope_json(tenant_id, event)
    return NatsMessage(subject_of(tenant_id, event.event_type, prefix), data, event.event_id)


class NatsPublisher:
    """One connection to NATS, on an event loop that runs on a thread this object owns.
    Connects on first use (and again after the connection closed); close it when done."""

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        subject_prefix: str = SUBJECT_PREFIX_DEFAULT,
        ack_timeout_seconds: float = ACK_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.ack_timeout_seconds = ack_timeout_seconds
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="rewardledger-nats", daemon=True
        )
        self._thread.start()

    @classmethod
    def from_settings(cls, settings: Settings) -> NatsPublisher:
        return cls(settings.nats_url, settings.nats_stream)

    def publish(self, messages: Sequence[NatsMessage]) -> None:
        """Publish ``messages`` in order; return once the stream acknowledged each one."""
        self._run(self._publish(messages), CONNECT_TIMEOUT_SECONDS + self.ack_timeout_seconds)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._disconnect(), CONNECT_TIMEOUT_SECONDS)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CONNECT_TIMEOUT_SECONDS)
            self._loop.close()

    def __enter__(self) -> NatsPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, work: Coroutine[Any, Any, T], timeout_seconds: float) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout_seconds + 1)
        except TimeoutError as error:
            future.cancel()
            raise NatsUnavailable(
                f"NATS at {self.url} did not answer within {timeout_seconds} s; the events "
                "stay in the outbox and are published by the next relay step."
            ) from error

    async def _publish(self, messages: Sequence[NatsMessage]) -> None:
        jetstream = await self._connected()
        try:
            acks = [
                await jetstream.publish_async(
                    m.subject, m.data, stream=self.stream, headers={"Nats-Msg-Id": m.message_id}
                )
                for m in messages
            ]
            await asyncio.wait_for(asyncio.gather(*acks), self.ack_timeout_seconds)
        except (TimeoutError, nats.errors.Error) as error:
            raise NatsUnavailable(
                f"NATS at {self.url} did not acknowledge the batch ({error!r}); the events "
                "stay in the outbox and are published again by the next relay step."
            ) from error

    async def _connected(self) -> JetStreamContext:
        client, jetstream = self._client, self._jetstream
        if client is not None and not client.is_closed and jetstream is not None:
            return jetstream
        try:
            client = await asyncio.wait_for(
                nats.connect(
                    self.url,
                    connect_timeout=int(CONNECT_TIMEOUT_SECONDS),
                    reconnect_time_wait=RECONNECT_WAIT_SECONDS,
                    max_reconnect_attempts=RECONNECT_ATTEMPTS_MAX,
                    error_cb=_quiet,
                ),
                CONNECT_TIMEOUT_SECONDS,
            )
        except (TimeoutError, OSError, nats.errors.Error) as error:
            raise NatsUnavailable(
                f"NATS is not reachable at {self.url} ({error!r}); set REWARDLEDGER_NATS_URL "
                "or start nats-server with JetStream (-js). The events stay in the outbox."
            ) from error
        jetstream = client.jetstream()
        await self._ensure_stream(jetstream)
        self._client, self._jetstream = client, jetstream
        return jetstream

    async def _ensure_stream(self, jetstream: JetStreamContext) -> None:
        try:
            await jetstream.stream_info(self.stream)
        except NotFoundError:
            await jetstream.add_stream(
                name=self.stream,
                subjects=[f"{self.subject_prefix}.>"],
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )

    async def _disconnect(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
        self._client = self._jetstream = None


async def _quiet(error: Exception) -> None:
    """nats-py reports connection errors here as well as by raising; the raise is enough."""


def relay_to_nats(
    ledger: Ledger,
    tenant_id: str,
    *,
    publisher: NatsPublisher,
    batch_size: int = RELAY_BATCH_SIZE_DEFAULT,
) -> RelayReport:
    """Publish the next batch of ``tenant_id``'s events to NATS (sink ``"nats"``); raises
    ``NatsUnavailable`` without moving the sink's place when NATS is down."""

    def deliver(events: Sequence[StoredEvent]) -> None:
        publisher.publish([message_of(tenant_id, e, publisher.subject_prefix) for e in events])

    return relay_batch(ledger, tenant_id, NATS_SINK, deliver, batch_size=batch_size)
