"""Posting throughput of the engine, beside baselines measured in the same run.

    .venv/bin/python bench/posting.py                 # both engines, about five minutes
    .venv/bin/python bench/posting.py --engines sqlite --seconds 2 --rounds 3

Scenarios (in-process, durable commits): single transfers from 1 and 4 writers, and batches of
1,000 from 1 writer. Baselines, on the same server in the same run, alternating with the
engine round by round so that drift on a shared machine hits both alike:
- PostgreSQL: a plain psycopg transaction that inserts two journal legs and updates two
  balance rows in account order; and ``pgbench``'s built-in tpcb-like script when installed.
- SQLite: the same transaction in plain sqlite3, WAL mode, synchronous=FULL (as the engine).
Writers are processes. The figures are medians over rounds; ratios are taken round by round.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from private_schema import drop_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest

ACCOUNTS = 1_000  # the default: each transfer picks two of this many accounts
BATCH = 1_000
# Every writer runs this long untimed first (caches, prepared statements, connections).
WARMUP_SECONDS = 1.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Target:
    """Where one engine's benchmark writes: the engine's URL and the baseline's own tables."""

    engine: str
    url: str
    tenant: str
    baseline: str  # psycopg conninfo, or a sqlite file path
    accounts: int


# ---------------------------------------------------------------------------------------------
# Workers. Each runs until its deadline and returns how many transfers it committed.


def _pairs(seed: int, accounts: int) -> Callable[[], tuple[int, int]]:
    rng = random.Random(seed)

    def pick() -> tuple[int, int]:
        a, b = rng.sample(range(accounts), 2)
        return a, b

    return pick


def _timed(step: Callable[[], int], seconds: float, start: Any) -> int:
    """Run ``step`` untimed for WARMUP_SECONDS, wait for every writer, then count what it
    commits in ``seconds``. Engine and baselines go through here alike."""
    warm_until = time.perf_counter() + WARMUP_SECONDS
    while time.perf_counter() < warm_until:
        step()
    start.wait()
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        done += step()
    return done


def _engine_worker(target: Target, seed: int, batch: int, seconds: float, start: Any) -> int:
    pick = _pairs(seed, target.accounts)
    prefix = f"w{seed}-{secrets.token_hex(3)}"
    numbers = itertools.count()
    with Ledger.open(target.url, migrate=False) as ledger:
        ledger.assets(target.tenant)

        def step() -> int:
            requests = []
            for _ in range(batch):
                a, b = pick()
                requests.append(
                    TransferRequest(f"{prefix}-{next(numbers)}", f"a{a}", f"a{b}", "USD", "1.00")
                )
            if batch == 1:
                ledger.transfer(target.tenant, requests[0])
            else:
                ledger.transfer_batch(target.tenant, requests)
            return batch

        return _timed(step, seconds, start)


def _postgres_baseline_worker(
    target: Target, seed: int, batch: int, seconds: float, start: Any
) -> int:
    pick = _pairs(seed, target.accounts)
    numbers = itertools.count()
    with psycopg.connect(target.baseline) as connection:

        def step() -> int:
            a, b = sorted(pick())
            number = next(numbers)
            with connection.transaction():
                connection.execute(_LEG_PG, (number, a, -100))
                connection.execute(_LEG_PG, (number, b, 100))
                connection.execute(_DEBIT_PG, (a,))
                connection.execute(_CREDIT_PG, (b,))
            return 1

        return _timed(step, seconds, start)


def _sqlite_baseline_worker(
    target: Target, seed: int, batch: int, seconds: float, start: Any
) -> int:
    pick = _pairs(seed, target.accounts)
    numbers = itertools.count()
    connection = sqlite3.connect(target.baseline, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")  # durable commits, as the engine

    def step() -> int:
        a, b = sorted(pick())
        number = next(numbers)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(_LEG_SQLITE, (number, a, -100))
        connection.execute(_LEG_SQLITE, (number, b, 100))
        connection.execute(_DEBIT_SQLITE, (a,))
        connection.execute(_CREDIT_SQLITE, (b,))
        connection.execute("COMMIT")
        return 1

    try:
        return _timed(step, seconds, start)
    finally:
        connection.close()


_LEG_PG = "INSERT INTO bench_legs (transfer_no, account_id, amount) VALUES (%s, %s, %s)"
_DEBIT_PG = "UPDATE bench_balances SET balance = balance - 100 WHERE account_id = %s"
_CREDIT_PG = "UPDATE bench_balances SET balance = balance + 100 WHERE account_id = %s"
_LEG_SQLITE = _LEG_PG.replace("%s", "?")
_DEBIT_SQLITE = _DEBIT_PG.replace("%s", "?")
_CREDIT_SQLITE = _CREDIT_PG.replace("%s", "?")


def _run(
    worker: Callable[..., int], target: Target, writers: int, batch: int, seconds: float
) -> float:
    """Transfers per second committed by ``writers`` processes running ``worker`` together."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Event()
        with context.Pool(writers) as pool:
            jobs = [
                pool.apply_async(worker, (target, random.randrange(10**9), batch, seconds, start))
                for _ in range(writers)
            ]
            # Every process imports, connects and warms up before the clock starts.
            time.sleep(WARMUP_SECONDS + 1.0)
            began = time.perf_counter()
            start.set()
            total = sum(job.get(timeout=seconds * 10 + 120) for job in jobs)
            elapsed = time.perf_counter() - began
    return total / elapsed


# ---------------------------------------------------------------------------------------------
# Setup.


def _prepare_engine(url: str, accounts: int) -> str:
    tenant = f"bench{secrets.token_hex(4)}"
    with Ledger.open(url) as ledger:
        ledger.create_tenant(tenant)
        ledger.create_asset(tenant, "USD", scale=2)
        for i in range(accounts):
            ledger.create_account(tenant, f"a{i}", asset="USD")
        # Planner statistics, as any database in service has them (the baseline gets the same).
        with ledger.store.engine.begin() as connection:  # type: ignore[attr-defined]
            connection.exec_driver_sql("ANALYZE")
    return tenant


_BASELINE_SCHEMA = """
CREATE TABLE bench_legs (
    id {serial} PRIMARY KEY,
    transfer_no BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    created_at {timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE bench_balances (account_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);
"""


def postgres_target(base_url: str, accounts: int) -> tuple[Target, Callable[[], None]]:
    schema = f"bench_{secrets.token_hex(4)}"
    conninfo = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for statement in _BASELINE_SCHEMA.format(serial="BIGSERIAL", timestamp="TIMESTAMPTZ").split(
            ";"
        ):
            if statement.strip():
                connection.execute(statement)  # type: ignore[arg-type]
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_balances VALUES (%s, 0)", [(i,) for i in range(accounts)]
            )
        connection.execute("ANALYZE")
    separator = "&" if "?" in base_url else "?"
    url = f"{base_url}{separator}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            drop_schema(connection, schema)

    target = Target(
        "postgresql",
        url,
        _prepare_engine(url, accounts),
        f"{conninfo}{separator}options=-csearch_path%3D{schema}",
        accounts,
    )
    return target, drop


def sqlite_target(directory: Path, accounts: int) -> tuple[Target, Callable[[], None]]:
    baseline = directory / "baseline.db"
    connection = sqlite3.connect(baseline, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.executescript(_BASELINE_SCHEMA.format(serial="INTEGER", timestamp="TEXT"))
    connection.executemany(
        "INSERT INTO bench_balances VALUES (?, 0)", [(i,) for i in range(accounts)]
    )
    connection.close()
    url = f"sqlite:///{directory / 'engine.db'}"
    return Target("sqlite", url, _prepare_engine(url, accounts), str(baseline), accounts), (
        lambda: None
    )


# ---------------------------------------------------------------------------------------------
# pgbench.


def pgbench(base_url: str, clients: int, seconds: float) -> float | None:
    """tps of pgbench's built-in tpcb-like script, or None when pgbench is not installed."""
    if shutil.which("pgbench") is None:
        return None
    info = psycopg.conninfo.conninfo_to_dict(
        base_url.replace("postgresql+psycopg://", "postgresql://")
    )
    schema = f"bench_pgbench_{secrets.token_hex(4)}"
    environment = dict(os.environ, PGOPTIONS=f"-c search_path={schema}")
    connection_args = [
        "-h",
        str(info.get("host", "127.0.0.1")),
        "-p",
        str(info.get("port", 5432)),
        "-U",
        str(info.get("user", "postgres")),
        str(info.get("dbname", "postgres")),
    ]
    with psycopg.connect(psycopg.conninfo.make_conninfo(**info), autocommit=True) as connection:  # type: ignore[arg-type]
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "1", *connection_args],
            env=environment,
            check=True,
            capture_output=True,
            timeout=300,
        )
        run = subprocess.run(
            [
                "pgbench",
                "-b",
                "tpcb-like",
                "-c",
                str(clients),
                "-j",
                str(clients),
                "-T",
                str(max(1, round(seconds))),
                *connection_args,
            ],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds * 10 + 60,
        )
        match = re.search(r"tps = ([0-9.]+)", run.stdout)
        return float(match.group(1)) if match else None
    finally:
        with psycopg.connect(psycopg.conninfo.make_conninfo(**info), autocommit=True) as connection:  # type: ignore[arg-type]
            drop_schema(connection, schema)


# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    engine: str
    scenario: str
    target: str
    ours: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [o / b for o, b in zip(self.ours, self.baseline, strict=True)]


SCENARIOS = [  # (name, writers, transfers per call, target)
    ("single, 1 writer", 1, 1, "ratio >= 0.60 (postgresql), >= 0.50 (sqlite)"),
    ("single, 4 writers", 4, 1, "ratio >= 0.60 (postgresql)"),
    ("batches of 1,000, 1 writer", 1, BATCH, ">= 30,000 transfers/s"),
]


def measure(target: Target, rounds: int, seconds: float, only: str) -> list[Row]:
    baseline_worker = (
        _postgres_baseline_worker if target.engine == "postgresql" else _sqlite_baseline_worker
    )
    rows = []
    for name, writers, batch, goal in SCENARIOS:
        if only not in name:
            continue
        if target.engine == "sqlite" and writers > 1:
            continue  # SQLite takes one writer at a time; more writers only queue on its lock.
        row = Row(target.engine, name, goal)
        for _ in range(rounds):
            # The baseline posts single transfers; for batches it is the single-transfer rate,
            # so the ratio shows what batching buys.
            row.baseline.append(_run(baseline_worker, target, writers, 1, seconds))
            row.ours.append(_run(_engine_worker, target, writers, batch, seconds))
            print(
                f"  {target.engine:10s} {name:28s} ours {row.ours[-1]:9.0f}/s  "
                f"baseline {row.baseline[-1]:8.0f}/s  ratio {row.ours[-1] / row.baseline[-1]:6.2f}",
                flush=True,
            )
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument(
        "--postgres", default=os.environ.get("REWARDLEDGER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--accounts", type=int, default=ACCOUNTS, help="accounts each transfer picks two of"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench baseline")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    rows: list[Row] = []
    pgbench_tps: dict[int, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="rewardledger-bench-") as directory:
        for engine in args.engines.split(","):
            target, cleanup = (
                postgres_target(args.postgres, args.accounts)
                if engine == "postgresql"
                else sqlite_target(Path(directory), args.accounts)
            )
            try:
                print(
                    f"{engine}: {args.accounts} accounts, "
                    f"{args.rounds} rounds of {args.seconds:g}s",
                    flush=True,
                )
                rows.extend(measure(target, args.rounds, args.seconds, args.only))
                if engine == "postgresql" and not args.no_pgbench:
                    for clients in (1, 4):
                        pgbench_tps[clients] = pgbench(args.postgres, clients, args.seconds)
            finally:
                cleanup()

    print()
    print(
        f"{'engine':11s}{'scenario':30s}{'ours /s':>10s}{'baseline /s':>13s}{'ratio':>8s}  target"
    )
    for row in rows:
        print(
            f"{row.engine:11s}{row.scenario:30s}{statistics.median(row.ours):10.0f}"
            f"{statistics.median(row.baseline):13.0f}{statistics.median(row.ratios()):8.2f}"
            f"  {row.target}"
        )
    for clients, tps in pgbench_tps.items():
        shown = "not installed" if tps is None else f"{tps:.0f} tps"
        print(f"pgbench tpcb-like, {clients} client(s): {shown}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": [
                        {
                            "engine": r.engine,
                            "scenario": r.scenario,
                            "ours": r.ours,
                            "baseline": r.baseline,
                            "ratio_median": statistics.median(r.ratios()),
                        }
                        for r in rows
                    ],
                    "pgbench_tps": pgbench_tps,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
