"""Budget throughput (reserve, charge) beside the core's single-transfer throughput, measured
in the same run, on PostgreSQL and SQLite.

    .venv/bin/python bench/budgets.py                          # both engines, about a minute
    .venv/bin/python bench/budgets.py --engines postgresql --seconds 2 --rounds 3

One writer, in process, durable commits. Each round measures, one after the other on the same
database: the core's single transfers (``Ledger.transfer``, two accounts chosen among 1,000),
budget reserves of 1.00 (each a unit of work: lock the budget row, read the period's figures,
check the caps, write a pending transfer, a reservation row and the counters), then charges of
the reservations just made (lock, look the reservation up, post it). Rounds alternate so that
drift on a shared machine hits all three alike; the figures are medians over rounds and the
ratios are taken round by round (reserve / transfer, charge / transfer).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.limits import AMOUNT_MINOR_MAX
from rewardledger.domain.money import format_minor
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import budgets

ACCOUNTS = 1_000
WARMUP_OPERATIONS = 50
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _prepare(ledger: Ledger) -> str:
    tenant = f"bench{secrets.token_hex(4)}"
    ledger.create_tenant(tenant, timezone="Africa/Harare")
    ledger.create_asset(tenant, "USD", scale=2)
    for i in range(ACCOUNTS):
        ledger.create_account(tenant, f"a{i}", asset="USD")
    budgets.create_budget(
        ledger, tenant, "bench", currency="USD", hard_cap=format_minor(AMOUNT_MINOR_MAX, 2)
    )
    budgets.topup(
        ledger,
        tenant,
        "bench",
        amount=format_minor(AMOUNT_MINOR_MAX, 2),
        currency="USD",
        idempotency_key="seed",
    )
    return tenant


def _transfers(ledger: Ledger, tenant: str, seconds: float, numbers: itertools.count[int]) -> float:
    rng = random.Random(7)
    done = 0
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        a, b = rng.sample(range(ACCOUNTS), 2)
        ledger.transfer(
            tenant, TransferRequest(f"t{next(numbers)}", f"a{a}", f"a{b}", "USD", "1.00")
        )
        done += 1
    return done / (time.perf_counter() - began)


def _reserves(
    ledger: Ledger, tenant: str, seconds: float, numbers: itertools.count[int]
) -> tuple[float, list[str]]:
    made: list[str] = []
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        reference = f"r{next(numbers)}"
        budgets.reserve(ledger, tenant, "bench", reference=reference, amount="1.00", currency="USD")
        made.append(reference)
    return len(made) / (time.perf_counter() - began), made


def _charges(ledger: Ledger, tenant: str, references: list[str]) -> float:
    began = time.perf_counter()
    for reference in references:
        budgets.charge(ledger, tenant, "bench", reference)
    return len(references) / (time.perf_counter() - began)


def run_engine(url: str, rounds: int, seconds: float) -> dict[str, float]:
    numbers = itertools.count()
    with Ledger.open(url) as ledger:
        tenant = _prepare(ledger)
        # Warm up: caches, prepared statements, the period's accounts.
        _transfers(ledger, tenant, 0.5, numbers)
        _, warm = _reserves(ledger, tenant, 0.5, numbers)
        _charges(ledger, tenant, warm[:WARMUP_OPERATIONS])
        figures: dict[str, list[float]] = {
            "transfer": [],
            "reserve": [],
            "charge": [],
            "reserve_ratio": [],
            "charge_ratio": [],
        }
        for _ in range(rounds):
            transfer = _transfers(ledger, tenant, seconds, numbers)
            reserve, made = _reserves(ledger, tenant, seconds, numbers)
            charge = _charges(ledger, tenant, made)
            figures["transfer"].append(transfer)
            figures["reserve"].append(reserve)
            figures["charge"].append(charge)
            figures["reserve_ratio"].append(reserve / transfer)
            figures["charge_ratio"].append(charge / transfer)
        assert budgets.reconcile(ledger, tenant, "bench").clean
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for engine in options.engines.split(","):
        if engine == "postgresql":
            with private_schema(options.postgres, "bench_budgets") as (url, _):
                results[engine] = run_engine(url, options.rounds, options.seconds)
        else:
            url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
            results[engine] = run_engine(url, options.rounds, options.seconds)
        r = results[engine]
        print(
            f"{engine:10} transfer {r['transfer']:8.0f}/s   reserve {r['reserve']:8.0f}/s "
            f"({r['reserve_ratio']:.2f}x)   charge {r['charge']:8.0f}/s ({r['charge_ratio']:.2f}x)"
        )
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
