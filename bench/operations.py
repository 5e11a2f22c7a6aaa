"""Every domain operation against the core's single transfer, in the same run, and the round
trips each one takes, on PostgreSQL and SQLite.

    .venv/bin/python bench/operations.py                         # both engines
    .venv/bin/python bench/operations.py --engines postgresql --rounds 3 --calls 50

One writer, in process, durable commits, one tenant set up for all operations (the catalogue
and its set-up are ``tests/roundtrips.py``, shared with the round-trip budget test). Each round
runs, for every operation in turn, ``--calls`` core transfers and then ``--calls`` calls of the
operation (what a call needs first, such as a reservation to charge, is made untimed just
before); the operation's ratio for that round is its rate over the rate of the transfers run
just before it. Printed: medians over rounds of the rates and of the per-round ratios, and the
range of the ratios.

Round trips are counted first, on the same ledger, with ``tests.roundtrips.RoundTrips``
(statements sent and waited for at the driver, psycopg's BEGIN, COMMIT and ROLLBACK included;
on SQLite every statement the library runs), then the counter is detached so that timing
runs without it. "via SQLAlchemy" is how many of them SQLAlchemy compiled and ran; the rest
ran on the driver connection directly (the core's write path).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.roundtrips

from tests.roundtrips import CORE_TRANSFER, OPERATIONS, RoundTrips, count_each, setup

from private_schema import private_schema
from rewardledger.bootstrap import Ledger

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _rate(ledger: Ledger, tenant: str, name: str, calls: int) -> float:
    ready = OPERATIONS[name](ledger, tenant, calls)  # untimed: what the calls need first
    began = time.perf_counter()
    for call in ready:
        call()
    return calls / (time.perf_counter() - began)


def run_engine(url: str, rounds: int, calls: int) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {name: {"rates": [], "ratios": []} for name in OPERATIONS}
    with Ledger.open(url) as ledger:
        trips = RoundTrips.attach(ledger)  # before the ledger's first write
        tenant = f"bench{secrets.token_hex(4)}"
        setup(ledger, tenant)
        for name in OPERATIONS:
            count_each(ledger, tenant, trips, name, 1)  # first use
            first, second = count_each(ledger, tenant, trips, name, 2)
            assert first.total == second.total, (name, first.shown(), second.shown())
            figures[name]["round_trips"] = first.total
            figures[name]["via_sqlalchemy"] = first.through_sqlalchemy
        trips.detach()
        for name in OPERATIONS:  # warm-up, untimed
            _rate(ledger, tenant, name, max(calls // 5, 5))
        for _ in range(rounds):
            for name in OPERATIONS:
                core = _rate(ledger, tenant, CORE_TRANSFER, calls)
                rate = core if name == CORE_TRANSFER else _rate(ledger, tenant, name, calls)
                figures[name]["rates"].append(rate)
                figures[name]["ratios"].append(rate / core)
    return figures


def report(engine: str, figures: dict[str, dict[str, Any]]) -> None:
    print(f"\n{engine}")
    print(
        f"{'operation':30s}{'round trips':>12s}{'via SQLAlchemy':>16s}{'ops/s':>9s}"
        f"{'ms/op':>8s}{'vs core transfer':>18s}{'range':>13s}"
    )
    for name, row in figures.items():
        rate = statistics.median(row["rates"])
        ratio = statistics.median(row["ratios"])
        low, high = min(row["ratios"]), max(row["ratios"])
        print(
            f"{name:30s}{row['round_trips']:12d}{row['via_sqlalchemy']:16d}{rate:9.0f}"
            f"{1000 / rate:8.2f}{ratio:18.2f}{f'{low:.2f}-{high:.2f}':>13s}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=100, help="calls per operation per round")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for engine in options.engines.split(","):
        print(f"{engine}: {options.rounds} rounds of {options.calls} calls", flush=True)
        if engine == "postgresql":
            with private_schema(options.postgres, "bench_operations") as (url, _):
                results[engine] = run_engine(url, options.rounds, options.calls)
        else:
            with tempfile.TemporaryDirectory(prefix="rewardledger-bench-") as directory:
                url = f"sqlite:///{Path(directory) / 'operations.db'}"
                results[engine] = run_engine(url, options.rounds, options.calls)
        report(engine, results[engine])
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
