"""Points throughput (issue 4) beside the core's, measured in the same run.

    .venv/bin/python bench/points.py                       # both engines
    .venv/bin/python bench/points.py --engines postgresql --rounds 3 --seconds 3
    .venv/bin/python bench/points.py --memory --engines sqlite    # import memory, 3 sizes

Scenarios, one writer, in process, durable commits:
- core single: ``ledger.transfer`` of one unit between two of 1,000 accounts (baseline of
  earn and spend);
- core batch: ``ledger.transfer_batch`` of 1,000 transfers (baseline of import);
- points earn, points spend: one use case per call over 1,000 holders (each spend takes from
  the holder's lots and writes its lot moves in the same transaction);
- points import: a CSV history streamed in batches of 2,000 rows.
Rounds alternate the scenarios so that drift on a shared machine hits them alike; figures are
medians over rounds and ratios are taken round by round.

With ``--memory``, the import's memory instead, for each of ``--sizes`` rows (10,000, 50,000
and 200,000 by default) of a history over a fixed set of ``MEMORY_HOLDERS`` holders in which
every holder earns twice and then spends both lots whole, so that open lots stay bounded
while the file grows. The file is written to disk first and read from there. Each import runs
in a fresh spawned process on a fresh tenant: once for its peak resident memory (``VmHWM``:
it also counts the interpreter, the driver and the allocator's high-water mark) and once, on
another tenant, for the peak of its own Python allocations (tracemalloc, started after the
ledger is open). Flat peaks mean the import streams; the ratio of the largest size's peak to
the smallest's is printed.
"""

from __future__ import annotations

import argparse
import io
import itertools
import multiprocessing
import random
import resource
import secrets
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from private_schema import drop_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import points

HOLDERS = 1_000
BATCH = 1_000
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
_ids = itertools.count()
_runs = itertools.count()
MEMORY_HOLDERS = 500
MEMORY_SIZES = (10_000, 50_000, 200_000)


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


# Import memory -------------------------------------------------------------------------------


def _write_bounded_history(path: Path, rows: int) -> None:
    """Rows in rounds over ``MEMORY_HOLDERS`` holders, one second apart: in rounds 0 and 1 of
    every three each holder earns 10, in round 2 it spends 20, which takes its two open lots
    whole. A holder never has more than two open lots, however long the file."""
    day = datetime(2020, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        out.write("user,accum_type,dtype,quantity,date,redemption_id\n")
        for i in range(rows):
            holder, turn = i % MEMORY_HOLDERS, (i // MEMORY_HOLDERS) % 3
            moment = (day + timedelta(seconds=i)).isoformat()
            if turn < 2:
                out.write(f"m{holder},earn,invoice,10,{moment},\n")
            else:
                out.write(f"m{holder},spend,ocr,-20,{moment},\n")


def _memory_tenant(url: str) -> str:
    tenant = f"bench{secrets.token_hex(4)}"
    with Ledger.open(url) as ledger:
        ledger.create_tenant(tenant)
        points.configure(ledger, tenant, "LUMIS")
        for holder in range(MEMORY_HOLDERS):
            points.open_holder(ledger, tenant, "LUMIS", f"m{holder}")
    return tenant


def _high_water_kib() -> int:
    """This process's peak resident memory. ``ru_maxrss`` is not used: Linux carries it over
    from the parent through fork and exec, so a spawned child would report the parent's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _import_in_process(
    url: str, tenant: str, path: str, traced: bool
) -> tuple[float, int, int, int, int]:
    """Import ``path`` in this (fresh) process: seconds, rows imported, peak resident memory
    in KiB, and (when ``traced``) the peak and the end of the import's own allocations."""
    with Ledger.open(url, migrate=False) as ledger:
        points.asset_policy(ledger, tenant, "LUMIS")  # warm the connection pool and caches
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        with open(path, encoding="utf-8") as stream:
            result = points.import_history(ledger, tenant, stream, asset="LUMIS")
        seconds = time.perf_counter() - started
        current, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
        tracemalloc.stop()
    assert result.bad_rows == 0, result
    assert result.already_present == 0, result
    return seconds, result.imported, _high_water_kib(), peak, current


def measure_memory(url: str, sizes: list[int]) -> list[dict[str, float]]:
    context = multiprocessing.get_context("spawn")
    figures: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            path = str(Path(directory) / f"history-{size}.csv")
            _write_bounded_history(Path(path), size)
            with context.Pool(1) as pool:
                seconds, imported, rss_kib, _, _ = pool.apply(
                    _import_in_process, (url, _memory_tenant(url), path, False)
                )
            with context.Pool(1) as pool:
                _, _, _, peak, left = pool.apply(
                    _import_in_process, (url, _memory_tenant(url), path, True)
                )
            assert imported == size
            figures.append(
                {
                    "rows": size,
                    "seconds": seconds,
                    "peak_rss_mib": rss_kib / 1024,
                    "peak_traced_mib": peak / 2**20,
                    "left_traced_mib": left / 2**20,
                }
            )
    return figures


def report_memory(engine: str, figures: list[dict[str, float]]) -> None:
    print(f"\n{engine}: import of a history over {MEMORY_HOLDERS} holders, open lots bounded")
    print("      rows   rows/s   peak RSS   peak traced   traced after")
    for f in figures:
        print(
            f"  {f['rows']:8,.0f} {f['rows'] / f['seconds']:8,.0f} {f['peak_rss_mib']:8.1f} MiB"
            f" {f['peak_traced_mib']:9.2f} MiB {f['left_traced_mib']:10.2f} MiB"
        )
    first, last = figures[0], figures[-1]
    print(
        f"  {last['rows'] / first['rows']:.0f} x the rows: peak RSS "
        f"{last['peak_rss_mib'] / first['peak_rss_mib']:.2f} x, peak traced "
        f"{last['peak_traced_mib'] / first['peak_traced_mib']:.2f} x"
    )


def _run(engine: str, url: str, args: argparse.Namespace) -> None:
    if args.memory:
        report_memory(engine, measure_memory(url, sorted(args.sizes)))
    else:
        report(engine, measure(url, args.rounds, args.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--memory", action="store_true", help="the import's peak memory")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(MEMORY_SIZES))
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{Path(directory) / 'points.db'}"
                _run(engine, url, args)
            continue
        schema = f"bench_points_{secrets.token_hex(4)}"
        with psycopg.connect(args.postgres, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            separator = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{separator}options=-csearch_path%3D{schema}"
            _run(engine, url, args)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                drop_schema(connection, schema)


if __name__ == "__main__":
    main()
