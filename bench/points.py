"""Points throughput (issue 4) beside the core's, measured in the same run.

    .venv/bin/python bench/points.py                       # both engines
    .venv/bin/python bench/points.py --engines postgresql --rounds 3 --seconds 3

Scenarios, one writer, in process, durable commits:
- core single: ``ledger.transfer`` of one unit between two of 1,000 accounts (baseline of
  earn and spend);
- core batch: ``ledger.transfer_batch`` of 1,000 transfers (baseline of import);
- points earn, points spend: one use case per call over 1,000 holders (each spend takes from
  the holder's lots and writes its lot moves in the same transaction);
- points import: a CSV history streamed in batches of 2,000 rows.
Rounds alternate the scenarios so that drift on a shared machine hits them alike; figures are
medians over rounds and ratios are taken round by round.
"""

from __future__ import annotations

import argparse
import io
import itertools
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points

HOLDERS = 1_000
BATCH = 1_000
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
_ids = itertools.count()
_runs = itertools.count()


def _rate(step: Callable[[], int], seconds: float) -> float:
    """Rows per second that ``step`` commits over ``seconds`` (after one untimed call)."""
    step()
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        done += step()
    return done / (time.perf_counter() - started)


def _prepare(ledger: Ledger, tenant: str) -> None:
    ledger.create_tenant(tenant)
    ledger.create_asset(tenant, "USD", scale=2)
    ledger.create_account(tenant, "funding", asset="USD")
    ledger.create_account(tenant, "clearing", asset="USD")
    points.configure(ledger, tenant, "LUMIS")
    for holder in range(HOLDERS):
        points.earn(
            ledger, tenant, f"h{holder}", "1000000", dtype="invoice", reference=f"s{holder}"
        )


def _history(rows: int, run: int, *, new_holders: bool) -> io.StringIO:
    """Earn rows for the 1,000 holders of the set-up, or for 1,000 holders never seen (whose
    accounts the import opens, one short transaction each). Each run has its own dates, so
    that no row of it was imported before."""
    lines = ["user,accum_type,dtype,quantity,date,redemption_id"]
    prefix = f"i{run}-" if new_holders else "h"
    day = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=run)
    for i in range(rows):
        moment = (day + timedelta(seconds=i)).isoformat()
        lines.append(f"{prefix}{i % HOLDERS},earn,invoice,{1 + i % 7},{moment},")
    return io.StringIO("\n".join(lines) + "\n")


def scenarios(ledger: Ledger, tenant: str) -> dict[str, Callable[[], int]]:
    rng = random.Random(7)

    def core_single() -> int:
        ledger.transfer(
            tenant, TransferRequest(f"c{next(_ids)}", "funding", "clearing", "USD", "0.01")
        )
        return 1

    def core_batch() -> int:
        ledger.transfer_batch(
            tenant,
            [
                TransferRequest(f"b{next(_ids)}", "funding", "clearing", "USD", "0.01")
                for _ in range(BATCH)
            ],
        )
        return BATCH

    def earn() -> int:
        holder = f"h{rng.randrange(HOLDERS)}"
        points.earn(ledger, tenant, holder, "5", dtype="invoice", reference=f"e{next(_ids)}")
        return 1

    def spend() -> int:
        holder = f"h{rng.randrange(HOLDERS)}"
        points.spend(ledger, tenant, holder, "3", dtype="ocr", reference=f"p{next(_ids)}")
        return 1

    def importer(new_holders: bool) -> Callable[[], int]:
        def import_rows() -> int:
            rows = 4_000
            history = _history(rows, next(_runs), new_holders=new_holders)
            report = points.import_history(ledger, tenant, history, asset="LUMIS")
            assert report.imported == rows, report
            return rows

        return import_rows

    return {
        "core single": core_single,
        "core batch": core_batch,
        "points earn": earn,
        "points spend": spend,
        "points import": importer(new_holders=False),
        "points import, new holders": importer(new_holders=True),
    }


def measure(url: str, rounds: int, seconds: float) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    with Ledger.open(url) as ledger:
        tenant = f"bench{secrets.token_hex(3)}"
        _prepare(ledger, tenant)
        steps = scenarios(ledger, tenant)
        for _ in range(rounds):
            for name, step in steps.items():
                figures.setdefault(name, []).append(_rate(step, seconds))
    return figures


def report(engine: str, figures: dict[str, list[float]]) -> None:
    def median(name: str) -> float:
        return statistics.median(figures[name])

    def ratio(name: str, base: str) -> float:
        return statistics.median(a / b for a, b in zip(figures[name], figures[base], strict=True))

    print(f"\n{engine}")
    print(f"  core single transfer   {median('core single'):9,.0f} transfers/s")
    print(f"  core batch of {BATCH:,}    {median('core batch'):9,.0f} transfers/s")
    print(
        f"  points earn            {median('points earn'):9,.0f} /s   "
        f"{ratio('points earn', 'core single'):.2f} x core single"
    )
    print(
        f"  points spend           {median('points spend'):9,.0f} /s   "
        f"{ratio('points spend', 'core single'):.2f} x core single"
    )
    print(
        f"  points import          {median('points import'):9,.0f} rows/s   "
        f"{ratio('points import', 'core batch'):.2f} x core batch"
    )
    print(
        f"  import, new holders    {median('points import, new holders'):9,.0f} rows/s   "
        f"{ratio('points import, new holders', 'core batch'):.2f} x core batch"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{Path(directory) / 'points.db'}"
                report(engine, measure(url, args.rounds, args.seconds))
            continue
        schema = f"bench_points_{secrets.token_hex(4)}"
        with psycopg.connect(args.postgres, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            separator = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{separator}options=-csearch_path%3D{schema}"
            report(engine, measure(url, args.rounds, args.seconds))
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
