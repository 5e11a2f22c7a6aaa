"""Webhook relay: (1) events/s the relay moves from the outbox to a local receiver, beside a
same-run baseline of plain signed POSTs of the same envelopes, sent with the same HTTP client
to the same receiver (no ledger); (2) transfers/s written while a ``rewardledger worker``
process relays in the background to an endpoint whose receiver is down (a closed port) or
answers 500, beside the same writes with no endpoint (and with the receiver up); on SQLite
and PostgreSQL.

    .venv/bin/python bench/relay_webhooks.py                   # both engines, about 4 minutes
    .venv/bin/python bench/relay_webhooks.py --engines sqlite --events 500 --writes 500 --rounds 3

(1) Each round writes ``--events`` transfers (one event each) for a fresh tenant with one
endpoint, then measures, in an order that alternates from round to round: the relay (fan-out
of a batch of 500 events into deliveries, then a delivery pass of up to 500: claim, sign, POST,
record each attempt; until nothing is left) and the baseline (the envelopes read beforehand,
each signed with ``standardwebhooks`` and POSTed, one after another as the relay does for one
endpoint). The receiver is a ``ThreadingHTTPServer`` in a process of its own, keeping the
connection alive.

(2) Each round measures, for each side (receiver up, down, answering 500), a pair: that side
and the same writes with no endpoint, in an order that alternates from round to round. Each
measurement is a fresh tenant (with its endpoint, if any), a worker process started for it
alone (``--step webhooks --tenant T``, the step due every second, ticking every 0.2 s) and
waited for until its first pass has run, then ``--writes`` single transfers timed, then the
worker stopped. The ratio side / no endpoint is taken pair by pair; figures are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
from standardwebhooks import Webhook

from private_schema import private_schema
from relay_nats import settled_events, write_batches
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.events.envelope import envelope_json
from rewardledger.events.webhooks import add_endpoint, deliver_due, fan_out

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
RELAY_BATCH = 500
WORKER_START_SECONDS = 60.0
GOAL = 0.9
SIDES = ("none", "up", "down", "failing")  # "none": no endpoint, the baseline
WORKER_ENV = {
    "REWARDLEDGER_WORKER_SCHEDULE": json.dumps({"webhooks": 1}),
    "REWARDLEDGER_WORKER_TICK_SECONDS": "0.2",
    "REWARDLEDGER_LOG_FORMAT": "json",
}


def _serve_receiver(status: int) -> None:
    """The receiver process: answer every POST with ``status``; print the port, then serve."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            body = b"ok"
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextmanager
def _receiver(status: int) -> Iterator[str]:
    command = [sys.executable, __file__, "--serve-receiver", str(status)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/hooks"
    finally:
        process.terminate()
        process.wait(30)


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def _tenant(ledger: Ledger, url: str | None) -> tuple[str, str | None]:
    """A fresh tenant with two accounts, and an endpoint at ``url`` (its secret) if given."""
    tenant = f"bench{secrets.token_hex(4)}"
    ledger.create_tenant(tenant, timezone="UTC")
    secret = None
    if url is not None:
        secret = add_endpoint(ledger, tenant, url=url, event_types=["*"]).secret
    ledger.create_asset(tenant, "USD", scale=2)
    ledger.create_account(tenant, "a", asset="USD")
    ledger.create_account(tenant, "b", asset="USD")
    return tenant, secret


def _envelopes(ledger: Ledger, tenant: str, expected: int) -> list[tuple[str, bytes]]:
    """(event id, body) of every event of the tenant, once the feed shows ``expected``."""
    return [
        (e.event_id, envelope_json(tenant, e)) for e in settled_events(ledger, tenant, expected)
    ]


def _relay(ledger: Ledger, tenant: str, client: httpx2.Client) -> tuple[int, float]:
    started = time.perf_counter()
    delivered = 0
    while True:
        fanned = fan_out(ledger, tenant, batch_size=RELAY_BATCH)
        counts = deliver_due(ledger, tenant, http_client=client, limit=RELAY_BATCH)
        delivered += counts.delivered
        if fanned.delivered == 0 and counts.claimed == 0:
            return delivered, time.perf_counter() - started


def _plain(
    client: httpx2.Client, url: str, secret: str, envelopes: list[tuple[str, bytes]]
) -> float:
    signer = Webhook(secret)
    started = time.perf_counter()
    for event_id, body in envelopes:
        now = datetime.now(UTC)
        headers = {
            "webhook-id": event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(event_id, now, body.decode()),
            "content-type": "application/json",
        }
        response = client.post(url, content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"the receiver answered {response.status_code}")
    return time.perf_counter() - started


def throughput(ledger: Ledger, events: int, rounds: int) -> dict[str, float]:
    relayed, plain, ratios = [], [], []
    with _receiver(200) as url, httpx2.Client() as client:
        for n in range(rounds):
            tenant, secret = _tenant(ledger, url)
            assert secret is not None
            write_batches(ledger, tenant, events)
            envelopes = _envelopes(ledger, tenant, events + 3)
            for side in ["relay", "plain"] if n % 2 == 0 else ["plain", "relay"]:
                if side == "relay":
                    moved, seconds = _relay(ledger, tenant, client)
                    relay_rate = moved / seconds
                else:
                    plain_rate = len(envelopes) / _plain(client, url, secret, envelopes)
            relayed.append(relay_rate)
            plain.append(plain_rate)
            ratios.append(relay_rate / plain_rate)
    return {
        "relay_events_per_second": statistics.median(relayed),
        "plain_posts_per_second": statistics.median(plain),
        "relay_over_plain": statistics.median(ratios),
    }


@contextmanager
def _worker(db: str, tenant: str, log: Path) -> Iterator[None]:
    """A ``rewardledger worker`` process relaying ``tenant``'s webhooks, once it has run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    env.update(WORKER_ENV)
    command = [sys.executable, "-m", "rewardledger.cli.main", "--db", db, "worker"]
    command += ["--step", "webhooks", "--tenant", tenant]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while '"worker_step_finished"' not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not run: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(WORKER_START_SECONDS)


def _timed_writes(ledger: Ledger, tenant: str, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        ledger.transfer(tenant, TransferRequest(f"w{n}", "a", "b", "USD", "0.01"))
    return count / (time.perf_counter() - started)


def writes_while_down(
    ledger: Ledger, db: str, writes: int, rounds: int, sides: tuple[str, ...] = SIDES[1:]
) -> dict[str, float]:
    """Each side's writes beside the same writes with no endpoint, measured as a pair (in an
    order that alternates from round to round), so the machine's other work hits both."""
    rates: dict[str, list[float]] = {side: [] for side in ("none", *sides)}
    ratios: dict[str, list[float]] = {side: [] for side in sides}
    with (
        _receiver(200) as up,
        _receiver(500) as failing,
        tempfile.TemporaryDirectory() as folder,
    ):
        urls = {"none": None, "up": up, "down": _closed_port_url(), "failing": failing}
        for n in range(rounds):
            for side in sides:
                pair: dict[str, float] = {}
                for one in (side, "none") if n % 2 == 0 else ("none", side):
                    tenant, _ = _tenant(ledger, urls[one])
                    with _worker(db, tenant, Path(folder) / f"{one}{n}{side}.log"):
                        pair[one] = _timed_writes(ledger, tenant, writes)
                    rates[one].append(pair[one])
                ratios[side].append(pair[side] / pair["none"])
    figures = {f"{side}_transfers_per_second": statistics.median(rates[side]) for side in rates}
    figures |= {f"{side}_over_none": statistics.median(ratios[side]) for side in sides}
    return figures


@contextmanager
def _database(engine: str, postgres: str) -> Iterator[str]:
    if engine == "postgresql":
        with private_schema(postgres, "bench_hooks") as (url, _):
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'hooks.db'}"


def _print(engine: str, result: dict[str, float], rounds: int) -> None:
    print(
        f"{engine}: relay {result['relay_events_per_second']:.0f} events/s, plain signed POSTs "
        f"{result['plain_posts_per_second']:.0f} events/s, relay / plain "
        f"{result['relay_over_plain']:.2f} (medians of {rounds} rounds)"
    )
    print(
        f"{engine}: writes with no endpoint {result['none_transfers_per_second']:.0f} "
        f"transfers/s; receiver up {result['up_transfers_per_second']:.0f} "
        f"({result['up_over_none']:.2f}); down {result['down_transfers_per_second']:.0f} "
        f"({result['down_over_none']:.2f}); answering 500 "
        f"{result['failing_transfers_per_second']:.0f} ({result['failing_over_none']:.2f}); "
        f"goal down and 500 >= {GOAL}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve-receiver", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_receiver is not None:
        _serve_receiver(options.serve_receiver)
        return
    figures = {}
    for engine in options.engines.split(","):
        with _database(engine, options.postgres) as db, Ledger.open(db) as ledger:
            result = throughput(ledger, options.events, options.rounds)
            result |= writes_while_down(ledger, db, options.writes, options.rounds)
        figures[engine] = result
        _print(engine, result, options.rounds)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
