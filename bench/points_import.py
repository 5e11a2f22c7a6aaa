"""The points import against ``COPY`` of the same file, in the same run (issue 12).

    .venv/bin/python bench/points_import.py                   # PostgreSQL, 5 rounds of 4,000
    .venv/bin/python bench/points_import.py --rows 8000 --rounds 3

Three scenarios, each round running them once in an order that alternates round by round, so
that drift on a shared machine hits them alike; figures are medians over rounds, and ratios
are taken round by round:
- ``COPY``: psycopg ``COPY ... FROM STDIN (FORMAT csv)`` of the CSV text into an unindexed
  table of the file's columns, typed, committed (one row per line; the import writes three:
  journal row, lot or moves, and the holder's balance);
- import, known holders: ``points.import_history`` of an earn-and-spend history over
  ``HOLDERS`` holders imported before;
- import, new holders: the same history over holders never seen, whose accounts and holder
  rows the import opens in each batch's transaction.
Every file has its own dates, so no row of it was imported before. The ledger runs on a
private schema as its owner (the journal's COPY path); the import's peak memory at N and 10 N
rows is ``bench/points.py --memory --sizes N 10N``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.services import points

HOLDERS = 1_000
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
_runs = itertools.count(1)
_BASELINE_TABLE = (
    "CREATE TABLE copy_baseline (holder text, accum_type text, dtype text, quantity numeric, "
    "date timestamptz, redemption_id text)"
)


def history(rows: int, prefix: str, run: int) -> str:
    """Per holder in turn: two earns of 5, then a spend of 7 that takes from both lots."""
    lines = ["user,accum_type,dtype,quantity,date,redemption_id"]
    day = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=run)
    for i in range(rows):
        moment = (day + timedelta(seconds=i)).isoformat()
        turn = (i // HOLDERS) % 3
        holder = f"{prefix}{i % HOLDERS}"
        if turn < 2:
            lines.append(f"{holder},earn,invoice,5,{moment},")
        else:
            lines.append(f"{holder},spend,ocr,-7,{moment},")
    return "\n".join(lines) + "\n"


def scenarios(ledger: Ledger, tenant: str, url: str, rows: int) -> dict[str, Callable[[], float]]:
    """Each returns the seconds its rows took (the file is made before the clock starts)."""

    def copy() -> float:
        text = history(rows, "h", next(_runs))
        with psycopg.connect(url) as connection:
            started = time.perf_counter()
            with connection.cursor().copy(
                "COPY copy_baseline FROM STDIN (FORMAT csv, HEADER true)"
            ) as out:
                out.write(text)
            connection.commit()
            return time.perf_counter() - started

    def importer(new_holders: bool) -> Callable[[], float]:
        def run() -> float:
            number = next(_runs)
            text = history(rows, f"n{number}-" if new_holders else "h", number)
            started = time.perf_counter()
            report = points.import_history(ledger, tenant, _stream(text), asset="LUMIS")
            seconds = time.perf_counter() - started
            assert (report.imported, report.bad_rows) == (rows, 0), report
            return seconds

        return run

    return {
        "COPY": copy,
        "import, known holders": importer(new_holders=False),
        "import, new holders": importer(new_holders=True),
    }


def _stream(text: str) -> io.StringIO:
    return io.StringIO(text)


def measure(url: str, rows: int, rounds: int) -> dict[str, list[float]]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(_BASELINE_TABLE)
    figures: dict[str, list[float]] = {}
    with Ledger.open(url) as ledger:
        tenant = "bench"
        ledger.create_tenant(tenant)
        points.configure(ledger, tenant, "LUMIS")
        points.import_history(ledger, tenant, _stream(history(HOLDERS, "h", 0)), asset="LUMIS")
        steps = scenarios(ledger, tenant, url, rows)
        for step in steps.values():  # untimed: caches, prepared statements
            step()
        names = list(steps)
        for number in range(rounds):
            order = names if number % 2 == 0 else names[::-1]
            for name in order:
                figures.setdefault(name, []).append(rows / steps[name]())
    return figures


def report(figures: dict[str, list[float]], rows: int, rounds: int) -> None:
    def ratio(name: str, base: str) -> float:
        return statistics.median(a / b for a, b in zip(figures[name], figures[base], strict=True))

    print(f"\npostgresql: {rounds} rounds of {rows:,} rows (rows/s, median; ratios per round)")
    for name, rates in figures.items():
        print(f"  {name:24} {statistics.median(rates):9,.0f} rows/s")
    known, new = "import, known holders", "import, new holders"
    print(f"  known holders vs COPY    {ratio(known, 'COPY'):.3f}   (goal >= 0.1)")
    print(f"  new holders vs COPY      {ratio(new, 'COPY'):.3f}")
    print(f"  new vs known holders     {ratio(new, known):.3f}   (goal >= 0.8)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rows", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with private_schema(args.postgres, "bench_import") as (url, _):
        report(measure(url, args.rows, args.rounds), args.rows, args.rounds)


if __name__ == "__main__":
    main()
