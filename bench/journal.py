"""What tamper evidence costs single transfers: with it and without it, in the same run.

    .venv/bin/python bench/journal.py                          # both engines
    .venv/bin/python bench/journal.py --engines sqlite --seconds 2 --rounds 3

"With" is the engine as shipped: each journal row's SHA-256 digest computed and stored, and on
SQLite the triggers that refuse an insert onto an existing key (migration 0008_append_only).
"Without" is the same engine on a database of its own with the digest not computed (the worker
process replaces ``row_digest`` by one that returns NULL). With ``--measure digest`` (the
default: tamper evidence alone, what the 10 % budget is for) both sides keep the triggers; with
``--measure digest+triggers`` they are also dropped from the "without" database, which shows
what refusing REPLACE adds on SQLite.
Both post single transfers from one writer (a process) between random pairs of accounts. By
default (``--schedule together``) each round runs the two writers at the same time, each on its
own database, so whatever else the shared machine is doing in that round slows both alike; with
``--schedule alternate`` the rounds run them one after the other, alternating which goes first.
Each round's ratio with/without is reported, and their median.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import secrets
import sqlite3
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from posting import (
    DEFAULT_POSTGRES,
    WARMUP_SECONDS,
    Target,
    _pairs,
    _run,
    _timed,
    postgres_target,
    sqlite_target,
)
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest


def _worker(target: Target, seed: int, batch: int, seconds: float, start: Any) -> int:
    evidence = not target.baseline.endswith("#without") or target.baseline.endswith("#kept")
    if not evidence:
        from rewardledger.storage import write_rows

        write_rows.row_digest = lambda values: None  # type: ignore[assignment,return-value]
    pick = _pairs(seed, target.accounts)
    prefix = f"j{seed}-{secrets.token_hex(3)}"
    numbers = itertools.count()
    with Ledger.open(target.url, migrate=False) as ledger:
        ledger.assets(target.tenant)

        def step() -> int:
            a, b = pick()
            ledger.transfer(
                target.tenant,
                TransferRequest(f"{prefix}-{next(numbers)}", f"a{a}", f"a{b}", "USD", "1.00"),
            )
            return 1

        return _timed(step, seconds, start)


def _together(without: Target, with_: Target, seconds: float) -> tuple[float, float]:
    """Transfers per second of the two writers, run at the same time from one start signal."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Event()
        with context.Pool(2) as pool:
            jobs = [
                pool.apply_async(_worker, (target, random.randrange(10**9), 1, seconds, start))
                for target in (without, with_)
            ]
            time.sleep(WARMUP_SECONDS + 1.0)
            began = time.perf_counter()
            start.set()
            bare, full = (job.get(timeout=seconds * 10 + 120) for job in jobs)
            elapsed = time.perf_counter() - began
    return bare / elapsed, full / elapsed


def _drop_replace_triggers(target: Target) -> None:
    if target.engine != "sqlite":
        return  # PostgreSQL has no such trigger: an upsert is refused by the UPDATE trigger
    path = target.url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_replace_%'"
        )
    ]
    assert names, "the database has no replace-refusing triggers to drop"
    for name in names:
        connection.execute(f"DROP TRIGGER {name}")
    connection.close()


def _drop_outbox_trigger(target: Target) -> None:
    """Take off the trigger that numbers each new event on SQLite (migration 0012)."""
    assert target.engine == "sqlite", "--measure outbox-trigger is about SQLite's trigger"
    connection = sqlite3.connect(target.url.removeprefix("sqlite:///"), isolation_level=None)
    connection.execute("DROP TRIGGER outbox_position")
    connection.close()


def _one_round(args: argparse.Namespace, round_no: int, without: Target, with_: Target) -> Any:
    if args.schedule == "together":
        return _together(without, with_, args.seconds)
    # Which side goes first alternates too: the second run of a round meets the first's
    # writes still being flushed to the shared disk.
    if round_no % 2 == 0:
        bare = _run(_worker, without, 1, 1, args.seconds)
        return bare, _run(_worker, with_, 1, 1, args.seconds)
    full = _run(_worker, with_, 1, 1, args.seconds)
    return _run(_worker, without, 1, 1, args.seconds), full


def _rounds(args: argparse.Namespace, engine: str, without: Target, with_: Target) -> list[float]:
    ratios = []
    for round_no in range(args.rounds):
        bare, full = _one_round(args, round_no, without, with_)
        ratios.append(full / bare)
        print(
            f"  {engine:10s} round {round_no + 1}: without {bare:7.0f}/s  "
            f"with {full:7.0f}/s  ratio {full / bare:5.3f}",
            flush=True,
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument(
        "--postgres", default=os.environ.get("REWARDLEDGER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--measure",
        choices=("digest", "digest+triggers", "outbox-trigger"),
        default="digest",
        help="digest: tamper evidence alone, the SQLite replace-refusing triggers kept on both "
        "sides (the issue's 10%% budget); digest+triggers: both taken off the 'without' side; "
        "outbox-trigger (SQLite): the digest kept on both, the trigger numbering each event "
        "taken off the 'without' side",
    )
    parser.add_argument(
        "--schedule",
        choices=("together", "alternate"),
        default="together",
        help="together: both writers in the same seconds (drift hits both alike); "
        "alternate: one after the other, alternating which goes first",
    )
    args = parser.parse_args()
    summary = []
    with tempfile.TemporaryDirectory(prefix="rewardledger-journal-") as directory:
        for engine in args.engines.split(","):
            cleanups = []
            pair = []
            for variant in ("without", "with"):
                if engine == "postgresql":
                    target, cleanup = postgres_target(args.postgres, args.accounts)
                else:
                    place = Path(directory) / variant
                    place.mkdir()
                    target, cleanup = sqlite_target(place, args.accounts)
                cleanups.append(cleanup)
                pair.append(replace(target, baseline=f"{target.baseline}#{variant}"))
            without, with_ = pair
            try:
                if args.measure == "digest+triggers":
                    _drop_replace_triggers(without)
                if args.measure == "outbox-trigger":
                    _drop_outbox_trigger(without)
                    without = replace(without, baseline=f"{without.baseline}#kept")
                ratios = _rounds(args, engine, without, with_)
                summary.append((engine, ratios))
            finally:
                for cleanup in cleanups:
                    cleanup()
    print()
    for engine, ratios in summary:
        shown = ", ".join(f"{r:.3f}" for r in ratios)
        print(
            f"{engine:11s} single transfers, with/without {args.measure}: median "
            f"{statistics.median(ratios):.3f} (rounds: {shown})"
            + ("; budget >= 0.90" if args.measure == "digest" else "")
        )


if __name__ == "__main__":
    main()
