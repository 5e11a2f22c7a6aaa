"""HTTP throughput and latency of ``rewardledger serve`` on PostgreSQL, beside ``pgbench``
running the same transfer as one plain SQL transaction, in the same run.

    .venv/bin/python bench/http_load.py                                   # about three minutes
    .venv/bin/python bench/http_load.py --workers 1,2 --clients 1,4,16 --rounds 2 --seconds 3
    .venv/bin/python bench/http_load.py --rounds 3 --seconds 3 --compare-pure-python
    .venv/bin/python bench/http_load.py --rounds 3 --seconds 3 --compare-group-commit

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

With ``--compare-pure-python`` a second ``serve`` runs beside the first, the same code without
uvloop and httptools (a folder first on its path makes both fail to import, so uvicorn falls
back to asyncio and h11); each round measures both over HTTP, in an order that alternates
between rounds, beside the same pgbench and in-process figures, and the last column is the
median of the per-round ratios of each server's req/s to the first's.

With ``--compare-group-commit`` the second ``serve`` is the same server with
``REWARDLEDGER_GROUP_COMMIT=true`` (the single transfers that arrive together in one process are
written in one transaction; the first runs with it off), measured the same way.

Every client process connects and sends untimed requests for half a second; the clock starts
when all of them are ready, and each then runs for ``--seconds``. Latencies are per request
as the client sees them (pgbench's from its per-transaction log).
"""

from __future__ import annotations

import argparse
import contextlib
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


# The two ways ``serve`` can run: with the C event loop and HTTP parser it picks when they are
# installed (uvloop, httptools), and without them (asyncio, h11): ``--compare-pure-python``.
NATIVE = "uvloop+httptools"
PURE_PYTHON = "asyncio+h11"
GROUP_COMMIT = "group-commit"  # native, with REWARDLEDGER_GROUP_COMMIT=true


def _without_native_modules(logs: Path) -> str:
    """A folder whose ``uvloop`` and ``httptools`` fail to import: first on a server's path, it
    makes uvicorn (and ``serve``'s protocol choice) fall back to asyncio and h11."""
    folder = logs / "pure-python"
    folder.mkdir(exist_ok=True)
    for name in ("uvloop", "httptools"):
        (folder / f"{name}.py").write_text(f'raise ImportError("{name}: left out by the bench")\n')
    return str(folder)


@contextmanager
def serving(url: str, workers: int, logs: Path, variant: str = NATIVE) -> Iterator[str]:
    """``rewardledger serve`` as a real process group; its base URL."""
    port = _free_port()
    log = logs / f"serve-{workers}-{variant}.log"
    command = [sys.executable, "-m", "rewardledger.cli.main", "--db", url, "serve"]
    environment = dict(os.environ)
    environment["REWARDLEDGER_GROUP_COMMIT"] = "true" if variant == GROUP_COMMIT else "false"
    if variant == PURE_PYTHON:
        path = [_without_native_modules(logs), os.environ.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(part for part in path if part)
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", str(workers), "--no-demo"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=environment,
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


@contextmanager
def _servers(url: str, workers: int, logs: Path, variants: list[str]) -> Iterator[dict[str, str]]:
    """One ``serve`` per variant, all up at once (an idle one costs nothing): their base URLs."""
    with contextlib.ExitStack() as stack:
        yield {v: stack.enter_context(serving(url, workers, logs, v)) for v in variants}


def _healthz(bases: dict[str, str], workers: int, seconds: float) -> dict[str, Any]:
    figures = {}
    for variant, base in bases.items():
        health = figures[variant] = load(base, None, "healthz", 1, seconds, 0)
        print(
            f"workers {workers} {variant}: GET /healthz p50 {health['p50_ms']:.2f} ms, "
            f"p99 {health['p99_ms']:.2f} ms",
            flush=True,
        )
    return figures


def _round(
    options: argparse.Namespace, url: str, schema: str, key: str, bases: dict[str, str],
    clients: int, order: list[str],
) -> dict[str, Any]:  # fmt: skip
    """One round at ``clients``: each variant over HTTP (in ``order``), pgbench, in-process."""
    seconds, accounts = options.seconds, options.accounts
    ours = {v: load(bases[v], key, "transfer", clients, seconds, accounts) for v in order}
    theirs = pgbench(options.postgres, schema, clients, seconds, accounts)
    inproc = (
        load(url, None, "inprocess", clients, seconds, accounts)
        if clients <= options.inprocess_clients_max
        else None
    )
    for variant in bases:
        http = ours[variant]
        beside = (
            "(in-process not measured)"
            if inproc is None
            else f"in-process {inproc['rate']:6.0f}/s p50 {inproc['p50_ms']:6.2f} "
            f"| {http['rate'] / inproc['rate']:.3f}x in-process"
        )
        print(
            f"  {variant:>16s} clients {clients:2d}: http {http['rate']:7.0f}/s "
            f"p50 {http['p50_ms']:6.2f} p99 {http['p99_ms']:7.2f} ms | pgbench "
            f"{theirs['rate']:7.0f} tps p50 {theirs['p50_ms']:6.2f} | "
            f"{http['rate'] / theirs['rate']:.3f}x pgbench | {beside}",
            flush=True,
        )
    return {"http": ours, "pgbench": theirs, "inproc": inproc}


def run(options: argparse.Namespace, logs: Path) -> dict[str, Any]:
    variants = [NATIVE]
    if options.compare_pure_python:
        variants.append(PURE_PYTHON)
    if options.compare_group_commit:
        variants.append(GROUP_COMMIT)
    results: dict[str, Any] = {"variants": variants, "healthz": {}, "transfers": []}
    with private_schema(options.postgres, "bench_http") as (url, schema):
        key = prepare(url, options.accounts)
        for workers in options.workers:
            with _servers(url, workers, logs, variants) as bases:
                results["healthz"][workers] = _healthz(bases, workers, options.seconds)
                if options.only == "healthz":
                    continue
                rows = {
                    c: {"workers": workers, "clients": c, "rounds": []} for c in options.clients
                }
                for number in range(options.rounds):
                    print(f"workers {workers}, round {number + 1}", flush=True)
                    # Which variant goes first alternates, so neither always meets a fresher
                    # machine.
                    order = variants if number % 2 == 0 else variants[::-1]
                    for clients in options.clients:
                        figures = _round(options, url, schema, key, bases, clients, order)
                        rows[clients]["rounds"].append(figures)
                results["transfers"].extend(rows.values())
    return results


def _row_figures(row: dict[str, Any], variant: str) -> dict[str, float | None]:
    """Medians over a row's rounds for one variant; ratios are medians of per-round ratios."""
    rounds = row["rounds"]
    http = [r["http"][variant] for r in rounds]
    measured = [(r["http"][variant], r["inproc"]) for r in rounds if r["inproc"]]
    return {
        "rate": statistics.median(h["rate"] for h in http),
        "p50_ms": statistics.median(h["p50_ms"] for h in http),
        "p99_ms": statistics.median(h["p99_ms"] for h in http),
        "pgbench_ratio": statistics.median(
            r["http"][variant]["rate"] / r["pgbench"]["rate"] for r in rounds
        ),
        "inproc_ratio": (
            statistics.median(h["rate"] / i["rate"] for h, i in measured) if measured else None
        ),
    }


def report(results: dict[str, Any]) -> None:
    variants = results["variants"]
    print("\nGET /healthz, 1 client, keep-alive")
    print(f"{'workers':>8s}{'server':>18s}{'p50 ms':>9s}{'p99 ms':>9s}{'req/s':>8s}")
    for workers, by_variant in results["healthz"].items():
        for variant, health in by_variant.items():
            print(
                f"{workers:8d}{variant:>18s}{health['p50_ms']:9.2f}{health['p99_ms']:9.2f}"
                f"{health['rate']:8.0f}"
            )
    if not results["transfers"]:
        return
    print(
        "\nsingle transfers (medians over rounds; ratios = medians of per-round ratios of HTTP "
        "req/s to pgbench tps, to in-process transfers/s and, last, to the first server's)"
    )
    print(
        f"{'workers':>8s}{'clients':>8s}{'server':>18s}{'http/s':>9s}{'p50 ms':>8s}"
        f"{'p99 ms':>8s}{'pgbench':>9s}{'ratio':>8s}{'in-proc':>9s}{'ratio':>8s}{'vs 1st':>8s}"
    )
    for row in results["transfers"]:
        rounds = row["rounds"]
        pgbench_rate = statistics.median(r["pgbench"]["rate"] for r in rounds)
        inproc = [r["inproc"]["rate"] for r in rounds if r["inproc"]]
        row["figures"] = {}
        for variant in variants:
            figures = row["figures"][variant] = _row_figures(row, variant)
            versus = statistics.median(
                r["http"][variant]["rate"] / r["http"][variants[0]]["rate"] for r in rounds
            )
            figures["first_server_ratio"] = versus
            in_process = figures["inproc_ratio"]
            print(
                f"{row['workers']:8d}{row['clients']:8d}{variant:>18s}{figures['rate']:9.0f}"
                f"{figures['p50_ms']:8.2f}{figures['p99_ms']:8.2f}{pgbench_rate:9.0f}"
                f"{figures['pgbench_ratio']:8.3f}"
                + (
                    f"{statistics.median(inproc):9.0f}{in_process:8.3f}"
                    if in_process is not None
                    else f"{'-':>9s}{'-':>8s}"
                )
                + f"{versus:8.3f}"
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
    parser.add_argument(
        "--compare-pure-python",
        action="store_true",
        help=f"also run a server without uvloop and httptools ({PURE_PYTHON}), in the same rounds",
    )
    parser.add_argument(
        "--compare-group-commit",
        action="store_true",
        help="also run a server with REWARDLEDGER_GROUP_COMMIT=true, in the same rounds",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rewardledger-bench-http-") as logs:
        results = run(options, Path(logs))
    report(results)
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
