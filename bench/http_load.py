"""HTTP throughput and latency of ``rewardledger serve`` on PostgreSQL, beside ``pgbench``
running the same transfer as one plain SQL transaction, in the same run.

    .venv/bin/python bench/http_load.py                                   # about three minutes
    .venv/bin/python bench/http_load.py --workers 1,2 --clients 1,4,16 --rounds 2 --seconds 3

Set-up: a schema of its own on the PostgreSQL server (dropped at the end) holding the ledger
(a tenant, USD, ``--accounts`` accounts, a writer key) and the baseline's two tables. For each
``--workers`` count, ``serve --workers N --no-demo`` is started as a real process on it, then:

- ``GET /healthz`` from one client, one request at a time on one keep-alive connection: p50
  and p99 (no database work: this is the server's own latency);
- single transfers: ``--clients`` load-generator processes, each with one keep-alive
  ``httpx2`` client, post ``POST /v1/tenants/bench/transfers`` (two random accounts, 1.00,
  a unique ``Idempotency-Key`` each) back to back for ``--seconds``; then ``pgbench`` runs
  ``bench/pgbench_transfer.sql`` (lock and update two balance rows in account order, append a
  journal row under a fresh unique id) with as many clients for as long. Rounds alternate the
  two. Printed: medians over rounds of req/s (tps), p50 and p99, and the median of the
  per-round ratios of req/s to pgbench's tps;
- in the same rounds, the same transfers in-process (at 1 client; up to
  ``--inprocess-clients-max``): as many processes as clients, each with a ``Ledger`` of its own
  calling ``Ledger.transfer`` back to back (the ledger without HTTP); the ratio of HTTP req/s
  to it is what the HTTP path costs.

Every client process connects and sends untimed requests for half a second; the clock starts
when all of them are ready, and each then runs for ``--seconds``. Latencies are per request
as the client sees them (pgbench's from its per-transaction log).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import access

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TENANT = "bench"
WARMUP_SECONDS = 0.5
START_SECONDS_MAX = 180  # 16 client processes importing at once on a busy 2-core machine
PGBENCH_SCRIPT = Path(__file__).with_name("pgbench_transfer.sql")


# Set-up --------------------------------------------------------------------------------------


def prepare(url: str, accounts: int) -> str:
    """The ledger's tenant, accounts and a writer key (returned), and the baseline's tables."""
    with Ledger.open(url) as ledger:
        ledger.create_tenant(TENANT)
        ledger.create_asset(TENANT, "USD", scale=2)
        for n in range(accounts):
            ledger.create_account(TENANT, f"a{n}", asset="USD")
        key = access.issue_key(ledger, TENANT, "writer").key
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE pgbench_transfer_accounts "
            "(account_id INT PRIMARY KEY, balance BIGINT NOT NULL)"
        )
        connection.execute(
            "CREATE TABLE pgbench_transfer_journal (transfer_id UUID PRIMARY KEY, debit INT, "
            "credit INT, amount BIGINT, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        connection.execute(
            "INSERT INTO pgbench_transfer_accounts SELECT n, 0 FROM generate_series(0, %s) n",
            (accounts - 1,),
        )
        connection.execute("ANALYZE")
    return key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str, workers: int, logs: Path) -> Iterator[str]:
    """``rewardledger serve`` as a real process group; its base URL."""
    port = _free_port()
    log = logs / f"serve-{workers}.log"
    command = [sys.executable, "-m", "rewardledger.cli.main", "--db", url, "serve"]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", str(workers), "--no-demo"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS_MAX
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        time.sleep(1.0 * workers)  # every worker up, not only the first
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# Load generator ------------------------------------------------------------------------------


def _client(job: dict[str, Any], ready: Any, start: Any) -> list[float]:
    """One keep-alive client: untimed warm-up, then requests back to back; their latencies."""
    rng = random.Random()
    prefix = secrets.token_hex(4)
    numbers = iter(range(10**9))
    headers = {"Authorization": f"Bearer {job['key']}"} if job["key"] else {}

    def one(client: httpx.Client) -> None:
        if job["kind"] == "healthz":
            response = client.get("/healthz")
            assert response.status_code == 200, response.text
            return
        debit, credit = rng.sample(range(job["accounts"]), 2)
        response = client.post(
            f"/v1/tenants/{TENANT}/transfers",
            headers={"Idempotency-Key": f"{prefix}-{next(numbers)}"},
            json={
                "debit_account_id": f"a{debit}",
                "credit_account_id": f"a{credit}",
                "asset": "USD",
                "amount": "1.00",
            },
        )
        assert response.status_code == 201, response.text

    if job["kind"] == "inprocess":
        return _in_process(job, ready, start)
    latencies: list[float] = []
    with httpx.Client(base_url=job["base"], headers=headers, timeout=60) as client:
        warm_until = time.perf_counter() + WARMUP_SECONDS
        while time.perf_counter() < warm_until:
            one(client)
        ready.put(os.getpid())
        start.wait()
        deadline = time.perf_counter() + job["seconds"]
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            one(client)
            latencies.append(time.perf_counter() - began)
    return latencies


def _in_process(job: dict[str, Any], ready: Any, start: Any) -> list[float]:
    """One process calling ``Ledger.transfer`` as a client posts: warm-up, then back to back."""
    rng = random.Random()
    prefix = secrets.token_hex(4)
    numbers = iter(range(10**9))
    with Ledger.open(job["url"], migrate=False) as ledger:

        def one() -> None:
            debit, credit = rng.sample(range(job["accounts"]), 2)
            ledger.transfer(
                TENANT,
                TransferRequest(
                    f"{prefix}-{next(numbers)}", f"a{debit}", f"a{credit}", "USD", "1.00"
                ),
            )

        warm_until = time.perf_counter() + WARMUP_SECONDS
        while time.perf_counter() < warm_until:
            one()
        ready.put(os.getpid())
        start.wait()
        latencies: list[float] = []
        deadline = time.perf_counter() + job["seconds"]
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            one()
            latencies.append(time.perf_counter() - began)
    return latencies


def _summary(latencies_ms: list[float], seconds: float) -> dict[str, float]:
    cuts = statistics.quantiles(latencies_ms, n=100)
    return {"rate": len(latencies_ms) / seconds, "p50_ms": cuts[49], "p99_ms": cuts[98]}


def _wait_ready(ready: Any, jobs: list[Any], clients: int) -> None:
    """Until ``clients`` have said they are ready; a client that failed raises its error."""
    deadline = time.monotonic() + START_SECONDS_MAX
    waiting = clients
    while waiting:
        try:
            ready.get(timeout=1)
            waiting -= 1
        except queue.Empty:
            for job_ in jobs:
                if job_.ready():
                    job_.get()  # raises what failed in the client
            if time.monotonic() > deadline:
                raise RuntimeError(f"{waiting} of {clients} clients never got ready") from None


def load(
    base: str, key: str | None, kind: str, clients: int, seconds: float, accounts: int
) -> dict[str, float]:
    """``kind`` healthz or transfer over HTTP at ``base``; inprocess: ``base`` is the database."""
    job = {"base": base, "key": key, "kind": kind, "seconds": seconds, "accounts": accounts,
           "url": base}  # fmt: skip
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        ready, start = manager.Queue(), manager.Event()
        with context.Pool(clients) as pool:
            jobs = [pool.apply_async(_client, (job, ready, start)) for _ in range(clients)]
            _wait_ready(ready, jobs, clients)  # every client connected and warm: then all start
            start.set()
            latencies = [s * 1000 for job_ in jobs for s in job_.get(timeout=seconds * 10 + 120)]
    # Each client ran for ``seconds`` from the same start.
    return _summary(latencies, seconds)


# pgbench -------------------------------------------------------------------------------------


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        raise SystemExit("pgbench is not installed: it is this benchmark's baseline")
    return found


def pgbench(
    base_url: str, schema: str, clients: int, seconds: float, accounts: int
) -> dict[str, float]:
    info = psycopg.conninfo.conninfo_to_dict(base_url)
    environment = dict(os.environ, PGOPTIONS=f"-c search_path={schema}")
    with tempfile.TemporaryDirectory(prefix="rewardledger-pgbench-") as logs:
        run = subprocess.run(
            [
                pgbench_binary(), "-n", "-f", str(PGBENCH_SCRIPT), "-D", f"accounts={accounts}",
                "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(max(1, round(seconds))),
                "-l", "--log-prefix", f"{logs}/pgbench",
                "-h", str(info.get("host", "127.0.0.1")), "-p", str(info.get("port", 5432)),
                "-U", str(info.get("user", "postgres")), str(info.get("dbname", "postgres")),
            ],
            env=environment, check=True, capture_output=True, text=True, timeout=seconds * 10 + 60,
        )  # fmt: skip
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(logs).iterdir()
            for line in log.read_text().splitlines()
        ]
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    assert match is not None, run.stdout
    figures = _summary(latencies, 1.0)
    figures["rate"] = float(match.group(1))
    return figures


# ---------------------------------------------------------------------------------------------


def run(options: argparse.Namespace, logs: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"healthz": {}, "transfers": []}
    with private_schema(options.postgres, "bench_http") as (url, schema):
        key = prepare(url, options.accounts)
        for workers in options.workers:
            with serving(url, workers, logs) as base:
                health = load(base, None, "healthz", 1, options.seconds, options.accounts)
                results["healthz"][workers] = health
                print(
                    f"workers {workers}: GET /healthz p50 {health['p50_ms']:.2f} ms, "
                    f"p99 {health['p99_ms']:.2f} ms",
                    flush=True,
                )
                if options.only == "healthz":
                    continue
                rows = {
                    c: {"workers": workers, "clients": c, "http": [], "pgbench": [], "inproc": []}
                    for c in options.clients
                }
                for _ in range(options.rounds):
                    for clients in options.clients:
                        ours = load(
                            base, key, "transfer", clients, options.seconds, options.accounts
                        )
                        theirs = pgbench(
                            options.postgres, schema, clients, options.seconds, options.accounts
                        )
                        inproc = (
                            load(url, None, "inprocess", clients, options.seconds, options.accounts)
                            if clients <= options.inprocess_clients_max
                            else None
                        )
                        rows[clients]["http"].append(ours)
                        rows[clients]["pgbench"].append(theirs)
                        rows[clients]["inproc"].append(inproc)
                        beside = (
                            "(in-process not measured)"
                            if inproc is None
                            else f"in-process {inproc['rate']:6.0f}/s p50 {inproc['p50_ms']:6.2f} "
                            f"| {ours['rate'] / inproc['rate']:.3f}x in-process"
                        )
                        print(
                            f"  workers {workers} clients {clients:2d}: http {ours['rate']:7.0f}/s "
                            f"p50 {ours['p50_ms']:6.2f} p99 {ours['p99_ms']:7.2f} ms | pgbench "
                            f"{theirs['rate']:7.0f} tps p50 {theirs['p50_ms']:6.2f} | "
                            f"{ours['rate'] / theirs['rate']:.3f}x pgbench | {beside}",
                            flush=True,
                        )
                results["transfers"].extend(rows.values())
    return results


def report(results: dict[str, Any]) -> None:
    print("\nGET /healthz, 1 client, keep-alive")
    print(f"{'workers':>8s}{'p50 ms':>9s}{'p99 ms':>9s}{'req/s':>8s}")
    for workers, health in results["healthz"].items():
        print(f"{workers:8d}{health['p50_ms']:9.2f}{health['p99_ms']:9.2f}{health['rate']:8.0f}")
    if not results["transfers"]:
        return
    print(
        "\nsingle transfers (medians over rounds; ratios = medians of per-round ratios of HTTP "
        "req/s to pgbench tps and to in-process transfers/s)"
    )
    print(
        f"{'workers':>8s}{'clients':>8s}{'http/s':>9s}{'p50 ms':>8s}{'p99 ms':>8s}"
        f"{'pgbench':>9s}{'p50 ms':>8s}{'p99 ms':>8s}{'ratio':>8s}{'in-proc':>9s}{'ratio':>8s}"
    )
    for row in results["transfers"]:

        def median(side: str, name: str, row: dict[str, Any] = row) -> float:
            return statistics.median(r[name] for r in row[side])

        ratio = statistics.median(
            h["rate"] / p["rate"] for h, p in zip(row["http"], row["pgbench"], strict=True)
        )
        measured = [(h, i) for h, i in zip(row["http"], row["inproc"], strict=True) if i]
        in_process = (
            statistics.median(h["rate"] / i["rate"] for h, i in measured) if measured else 0
        )
        in_process_rate = statistics.median(i["rate"] for _, i in measured) if measured else 0
        row["ratio_median"] = ratio
        row["inproc_ratio_median"] = in_process if measured else None
        print(
            f"{row['workers']:8d}{row['clients']:8d}{median('http', 'rate'):9.0f}"
            f"{median('http', 'p50_ms'):8.2f}{median('http', 'p99_ms'):8.2f}"
            f"{median('pgbench', 'rate'):9.0f}{median('pgbench', 'p50_ms'):8.2f}"
            f"{median('pgbench', 'p99_ms'):8.2f}{ratio:8.3f}"
            + (f"{in_process_rate:9.0f}{in_process:8.3f}" if measured else f"{'-':>9s}{'-':>8s}")
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--workers", default="1,2", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument(
        "--clients", default="1,4,16", type=lambda s: [int(x) for x in s.split(",")]
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument(
        "--inprocess-clients-max",
        type=int,
        default=1,
        help="measure the in-process column at client counts up to this (each its processes)",
    )
    parser.add_argument("--only", choices=["healthz"], help="measure GET /healthz only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rewardledger-bench-http-") as logs:
        results = run(options, Path(logs))
    report(results)
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
