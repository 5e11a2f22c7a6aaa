"""Core batches of 1,000 transfers against a psycopg COPY of their legs (issue 12).

    .venv/bin/python bench/core_batch.py                      # 5 rounds of 3 s each
    .venv/bin/python bench/core_batch.py --rounds 3 --seconds 2

One writer, in process, durable commits, on a private PostgreSQL schema:
- ours: ``ledger.transfer_batch`` of ``BATCH`` transfers between random pairs of
  ``ACCOUNTS`` accounts, atomic, and the same batch per item (``atomic=False``);
- baseline: one transaction that COPYs the batch's two legs per transfer (binary) into an
  unindexed table and applies them to the accounts' totals with ONE
  ``UPDATE ... FROM unnest(...)``, one row per touched account.
Rounds alternate the order of the scenarios; figures are medians, ratios per round. The
ledger connects as the schema's owner, as the other benchmarks do; under row-level security
(the application's role) the journal is written with ``INSERT ... SELECT FROM unnest`` instead
of COPY.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest

ACCOUNTS = 1_000
BATCH = 1_000
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
_ids = itertools.count()
_BASELINE_TABLES = (
    "CREATE TABLE legs (transfer_id text, account_id text, amount_minor bigint, "
    "created_at timestamptz)",
    "CREATE TABLE totals (account_id text PRIMARY KEY, debits_minor bigint NOT NULL, "
    "credits_minor bigint NOT NULL)",
)
_APPLY = (
    "UPDATE totals AS t SET debits_minor = t.debits_minor + v.debits, "
    "credits_minor = t.credits_minor + v.credits "
    "FROM unnest(%b::text[], %b::bigint[], %b::bigint[]) AS v(account_id, debits, credits) "
    "WHERE t.account_id = v.account_id"
)


def _pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(BATCH):
        debit, credit = rng.sample(range(ACCOUNTS), 2)
        pairs.append((f"a{debit}", f"a{credit}"))
    return pairs


def _rate(step: Callable[[], int], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        done += step()
    return done / (time.perf_counter() - started)


def scenarios(ledger: Ledger, tenant: str, url: str) -> dict[str, Callable[[], int]]:
    rng = random.Random(12)
    connection = psycopg.connect(url)

    def ours(atomic: bool) -> Callable[[], int]:
        def step() -> int:
            requests = [
                TransferRequest(f"b{next(_ids)}", debit, credit, "USD", "0.01")
                for debit, credit in _pairs(rng)
            ]
            ledger.transfer_batch(tenant, requests, atomic=atomic)
            return BATCH

        return step

    def baseline() -> int:
        now = datetime.now(UTC)
        debits: Counter[str] = Counter()
        credits: Counter[str] = Counter()
        with connection.cursor() as cursor:
            with cursor.copy("COPY legs FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "text", "int8", "timestamptz"])
                for debit, credit in _pairs(rng):
                    transfer = f"c{next(_ids)}"
                    copy.write_row((transfer, debit, -1, now))
                    copy.write_row((transfer, credit, 1, now))
                    debits[debit] += 1
                    credits[credit] += 1
            touched = sorted(set(debits) | set(credits))
            cursor.execute(
                _APPLY, [touched, [debits[a] for a in touched], [credits[a] for a in touched]]
            )
        connection.commit()
        return BATCH

    return {
        "COPY + one UPDATE": baseline,
        "core batch, atomic": ours(atomic=True),
        "core batch, per item": ours(atomic=False),
    }


def measure(url: str, rounds: int, seconds: float) -> dict[str, list[float]]:
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in _BASELINE_TABLES:
            connection.execute(statement)
        connection.execute(
            "INSERT INTO totals SELECT 'a' || n, 0, 0 FROM generate_series(0, %s) AS n",
            [ACCOUNTS - 1],
        )
    figures: dict[str, list[float]] = {}
    with Ledger.open(url) as ledger:
        tenant = "bench"
        ledger.create_tenant(tenant)
        ledger.create_asset(tenant, "USD", scale=2)
        for n in range(ACCOUNTS):
            ledger.create_account(tenant, f"a{n}", asset="USD")
        steps = scenarios(ledger, tenant, url)
        for step in steps.values():  # untimed: caches, prepared statements
            step()
        names = list(steps)
        for number in range(rounds):
            for name in names if number % 2 == 0 else names[::-1]:
                figures.setdefault(name, []).append(_rate(steps[name], seconds))
    return figures


def report(figures: dict[str, list[float]], rounds: int) -> None:
    base = "COPY + one UPDATE"
    print(f"\npostgresql: batches of {BATCH:,} over {ACCOUNTS:,} accounts, {rounds} rounds")
    for name, rates in figures.items():
        ratio = statistics.median(a / b for a, b in zip(rates, figures[base], strict=True))
        print(f"  {name:22} {statistics.median(rates):9,.0f} transfers/s   {ratio:.2f} x COPY")
    print("  goal: >= 0.6 x COPY")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with private_schema(args.postgres, "bench_batch") as (url, _):
        report(measure(url, args.rounds, args.seconds), args.rounds)


if __name__ == "__main__":
    main()
