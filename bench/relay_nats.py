"""Relay throughput to NATS JetStream: events/s that ``relay_to_nats`` moves from the outbox
to the stream, beside a same-run baseline of raw nats-py JetStream publishes of the same
payloads (the same envelopes, subjects and Nats-Msg-Id headers, the same batch size, each
batch's acks awaited), on SQLite and PostgreSQL.

    .venv/bin/python bench/relay_nats.py                       # both engines, about a minute
    .venv/bin/python bench/relay_nats.py --engines sqlite --events 2000 --rounds 3

Each round writes ``--events`` transfers (one event each) for a fresh tenant, then measures,
in an order that alternates from round to round: the relay (claim the sink, read a batch after
its place, publish it, wait for the acks, record the place; until the feed is drained) and the
baseline (publish the envelopes read beforehand, batch by batch). The ratio relay / baseline
is taken round by round; figures are medians. Needs nats-server -js at --nats (default
127.0.0.1:4222); each side has a stream of its own, deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.domain.transfers import TransferRequest
from rewardledger.events import StoredEvent, read_events
from rewardledger.events.nats import NatsMessage, NatsPublisher, message_of, relay_to_nats

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_NATS = "nats://127.0.0.1:4222"
WRITE_BATCH = 1_000
RELAY_BATCH = 500
FEED_SETTLE_SECONDS = 60.0


def _tenant_with_events(ledger: Ledger, count: int) -> str:
    tenant = f"bench{secrets.token_hex(4)}"
    ledger.create_tenant(tenant, timezone="UTC")
    ledger.create_asset(tenant, "USD", scale=2)
    ledger.create_account(tenant, "a", asset="USD")
    ledger.create_account(tenant, "b", asset="USD")
    write_batches(ledger, tenant, count)
    return tenant


def write_batches(ledger: Ledger, tenant: str, count: int) -> None:
    """``count`` transfers from ``a`` to ``b`` in batches of WRITE_BATCH: one event each."""
    for start in range(0, count, WRITE_BATCH):
        ledger.transfer_batch(
            tenant,
            [
                TransferRequest(f"t{n}", "a", "b", "USD", "0.01")
                for n in range(start, min(count, start + WRITE_BATCH))
            ],
        )


def settled_events(ledger: Ledger, tenant: str, expected: int) -> list[StoredEvent]:
    """Every event of the tenant, once the feed shows at least ``expected`` (on PostgreSQL it
    holds back rows younger than the oldest running transaction), or all it shows after
    FEED_SETTLE_SECONDS."""
    deadline = time.monotonic() + FEED_SETTLE_SECONDS
    while True:
        events: list[StoredEvent] = []
        cursor = None
        while True:
            page = read_events(ledger, tenant, after=cursor, limit=PAGE_SIZE_MAX)
            if not page.events:
                break
            events.extend(page.events)
            cursor = page.next_cursor
        if len(events) >= expected or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def _messages(ledger: Ledger, tenant: str, prefix: str, expected: int) -> list[NatsMessage]:
    """Every event of the tenant as the relay would publish it."""
    return [message_of(tenant, e, prefix) for e in settled_events(ledger, tenant, expected)]


def _relay(ledger: Ledger, tenant: str, publisher: NatsPublisher) -> tuple[int, float]:
    started = time.perf_counter()
    moved = 0
    while True:
        report = relay_to_nats(ledger, tenant, publisher=publisher, batch_size=RELAY_BATCH)
        if report.delivered == 0:
            return moved, time.perf_counter() - started
        moved += report.delivered


async def _raw(url: str, stream: str, messages: list[NatsMessage]) -> float:
    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        started = time.perf_counter()
        for start in range(0, len(messages), RELAY_BATCH):
            acks = [
                await jetstream.publish_async(
                    m.subject, m.data, stream=stream, headers={"Nats-Msg-Id": m.message_id}
                )
                for m in messages[start : start + RELAY_BATCH]
            ]
            await asyncio.gather(*acks)
        return time.perf_counter() - started
    finally:
        await client.close()


async def _delete(url: str, streams: list[str]) -> None:
    client = await nats.connect(url)
    try:
        for stream in streams:
            with contextlib.suppress(NotFoundError):
                await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


@contextmanager
def _database(engine: str, postgres: str) -> Iterator[str]:
    if engine == "postgresql":
        with private_schema(postgres, "bench_relay") as (url, _):
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'relay.db'}"


def run(engine: str, postgres: str, url: str, events: int, rounds: int) -> dict[str, float]:
    tag = secrets.token_hex(3)
    relay_stream, raw_stream = f"RLBENCH_RELAY_{tag}", f"RLBENCH_RAW_{tag}"
    relay_prefix, raw_prefix = f"rlbenchrelay{tag}", f"rlbenchraw{tag}"
    relayed, raw, ratios = [], [], []
    with (
        _database(engine, postgres) as db,
        Ledger.open(db) as ledger,
        NatsPublisher(url, relay_stream, subject_prefix=relay_prefix) as publisher,
    ):
        # the raw side's stream, made by a publisher the same way (outside the timing)
        with NatsPublisher(url, raw_stream, subject_prefix=raw_prefix) as maker:
            maker.publish([])
        publisher.publish([])  # connected, and its stream made, before the first timing
        try:
            for n in range(rounds):
                tenant = _tenant_with_events(ledger, events)
                messages = _messages(ledger, tenant, raw_prefix, events + 4)
                sides = ["relay", "raw"] if n % 2 == 0 else ["raw", "relay"]
                for side in sides:
                    if side == "relay":
                        moved, seconds = _relay(ledger, tenant, publisher)
                        relay_rate = moved / seconds
                    else:
                        raw_rate = len(messages) / asyncio.run(_raw(url, raw_stream, messages))
                relayed.append(relay_rate)
                raw.append(raw_rate)
                ratios.append(relay_rate / raw_rate)
        finally:
            asyncio.run(_delete(url, [relay_stream, raw_stream]))
    return {
        "relay_events_per_second": statistics.median(relayed),
        "raw_events_per_second": statistics.median(raw),
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--nats", default=DEFAULT_NATS)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    figures = {}
    for engine in options.engines.split(","):
        figures[engine] = run(
            engine, options.postgres, options.nats, options.events, options.rounds
        )
        result = figures[engine]
        print(
            f"{engine}: relay {result['relay_events_per_second']:.0f} events/s, raw JetStream "
            f"{result['raw_events_per_second']:.0f} events/s, relay / raw "
            f"{result['ratio']:.2f} (medians of {options.rounds} rounds)"
        )
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
