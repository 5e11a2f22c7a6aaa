"""Fixtures of the event tests: the real NATS server (JetStream on), reached through
``REWARDLEDGER_TEST_NATS_URL`` (default nats://127.0.0.1:4222). When none answers, the NATS
tests are skipped with a loud message, except in CI (``CI=true``), where that is a failure, as
for PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import func, select

from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.events import read_events
from rewardledger.events.nats import NatsPublisher
from rewardledger.ledger.engine import Ledger
from rewardledger.storage.schema import outbox
from tests.conftest import IN_CI, owner_engine

NATS_URL = os.environ.get("REWARDLEDGER_TEST_NATS_URL", "nats://127.0.0.1:4222")
CONNECT_TIMEOUT_SECONDS = 3
FETCH_TIMEOUT_SECONDS = 1.0
FETCH_BATCH = 500


def _nats_problem() -> str | None:
    parts = urlsplit(NATS_URL)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 4222), CONNECT_TIMEOUT_SECONDS
        ):
            return None
    except OSError as error:
        return f"NATS at {NATS_URL} is not reachable: {error}"


def require_nats() -> None:
    problem = _nats_problem()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"{problem} (CI=true: NATS tests must run; .ci/run starts nats-server)")
    pytest.skip(
        f"!!! {problem}: NATS tests SKIPPED. Start nats-server -js or set "
        "REWARDLEDGER_TEST_NATS_URL."
    )


@dataclass(frozen=True)
class Received:
    subject: str
    message_id: str
    envelope: dict[str, Any]


@dataclass(frozen=True)
class Stream:
    """A stream of the test's own (its own name and subject prefix, deleted afterwards), so
    that tests running at once on one server never meet."""

    name: str
    prefix: str

    def publisher(self, url: str = NATS_URL) -> NatsPublisher:
        return NatsPublisher(url, self.name, subject_prefix=self.prefix)

    def read(self, tenant_id: str) -> list[Received]:
        """Every message of the tenant in the stream, read by an ephemeral JetStream consumer."""
        return asyncio.run(self._read(tenant_id))

    def info(self) -> Any:
        return asyncio.run(self._info())

    async def _read(self, tenant_id: str) -> list[Received]:
        client = await nats.connect(NATS_URL, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            jetstream = client.jetstream()
            subscription = await jetstream.pull_subscribe(
                f"{self.prefix}.{tenant_id}.>", durable=None, stream=self.name
            )
            received: list[Received] = []
            while True:
                try:
                    messages = await subscription.fetch(FETCH_BATCH, timeout=FETCH_TIMEOUT_SECONDS)
                except TimeoutError:
                    break
                for message in messages:
                    await message.ack()
                    headers = message.headers or {}
                    received.append(
                        Received(message.subject, headers["Nats-Msg-Id"], json.loads(message.data))
                    )
            await subscription.unsubscribe()
            return received
        finally:
            await client.close()

    async def _info(self) -> Any:
        client = await nats.connect(NATS_URL, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            return await client.jetstream().stream_info(self.name)
        finally:
            await client.close()

    async def delete(self) -> None:
        client = await nats.connect(NATS_URL, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            await client.jetstream().delete_stream(self.name)
        except NotFoundError:
            pass
        finally:
            await client.close()


@pytest.fixture
def stream(tenant_id: str) -> Iterator[Stream]:
    require_nats()
    made = Stream(f"RLTEST_{tenant_id}", f"rltest{tenant_id}")
    yield made
    asyncio.run(made.delete())


def closed_port_url() -> str:
    """A NATS URL at a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"nats://127.0.0.1:{port}"


FEED_SETTLE_SECONDS = 60.0
FEED_POLL_SECONDS = 0.05


def settle_feed(ledger: Ledger, tenant_id: str) -> int:
    """Wait until the feed shows every event the tenant's committed changes wrote, and return
    how many there are. On PostgreSQL the feed holds back rows younger than the oldest running
    transaction of the whole server, which other test sessions may keep open for a moment."""
    query = select(func.count()).select_from(outbox).where(outbox.c.tenant_id == tenant_id)
    with owner_engine(ledger).connect() as connection:
        written = connection.execute(query).scalar_one()
    deadline = time.monotonic() + FEED_SETTLE_SECONDS
    while len(read_events(ledger, tenant_id, limit=PAGE_SIZE_MAX).events) < written:
        assert time.monotonic() < deadline, "the feed never caught up with the outbox"
        time.sleep(FEED_POLL_SECONDS)
    return int(written)
