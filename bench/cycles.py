"""Cycle ledgers: movements written per second and rebuild rows per second, beside baselines
measured in the same run, and the rebuild's peak memory as the movements grow.

    .venv/bin/python bench/cycles.py                          # PostgreSQL, 1,000,000 movements
    .venv/bin/python bench/cycles.py --rows 100000 --seconds 5 --engines postgresql sqlite

Scenarios, per engine:
- **movements written**: cashback accruals through ``cashback.accrue`` (one unit of work each:
  dirty mark, cap check, journal transfer, movement row), one writer, job refresh mode.
  Beside it, in the same run: the core's single ``ledger.transfer`` (what each accrual also
  does), and a plain SQL ``GROUP BY`` over the movement rows (rows per second), as the issue asks.
- **rebuild**: ``cycles.rebuild`` over bulk-seeded movements (COPY/executemany straight into
  ``cashback_movements`` and ``debt_movements``, half each, ten movements per (holder, cycle)),
  in movement rows per second, beside a plain SQL ``GROUP BY`` of the same rows (both tables)
  timed in the same run.
- **unchanged rebuild**: a third rebuild, with nothing changed since the second (no row or
  event to write), beside a ``GROUP BY`` timed just before it.
- **memory**: each rebuild runs in a fresh process, for 1 %, 10 % and 100 % of ``--rows``: its
  peak resident memory (``VmHWM``: it also counts the interpreter, the driver's buffers and
  the allocator's high-water mark) and, in a second rebuild that writes every row again, the peak
  of its own Python allocations (tracemalloc): flat means the rebuild streams.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import secrets
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import cashback, cycles, debt

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
MOVEMENTS_PER_PAIR = 10
SEED_CHUNK = 50_000
CYCLE_TAGS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05")
PER_HOLDER = MOVEMENTS_PER_PAIR * len(CYCLE_TAGS)


def _tenant(ledger: Ledger, mode: str = "job") -> str:
    tenant = f"bench{secrets.token_hex(4)}"
    ledger.create_tenant(tenant, timezone="America/Panama")
    ledger.create_asset(tenant, "USD", scale=2)
    cashback.set_program(
        ledger, tenant, currency="USD", minimum_spend="100.00", default_cap="1000000.00"
    )
    debt.set_program(ledger, tenant, currency="USD", closing_day=20, due_day=10)
    cycles.set_refresh_mode(ledger, tenant, mode)
    return tenant


def _engine(ledger: Ledger) -> Any:
    return ledger.store.engine  # type: ignore[attr-defined]


# Movements written ---------------------------------------------------------------------------


def _accruals_per_second(ledger: Ledger, tenant: str, seconds: float) -> float:
    for account in range(100):  # accounts exist before timing
        cashback.accrue(
            ledger,
            tenant,
            cashback.Accrual(f"warm-{account}", f"card-{account}", "10.00", "0.10"),
        )
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        cashback.accrue(
            ledger,
            tenant,
            cashback.Accrual(f"m-{done}", f"card-{done % 100}", "10.00", "0.10"),
        )
        done += 1
    return done / (time.perf_counter() - start)


def _transfers_per_second(ledger: Ledger, tenant: str, seconds: float) -> float:
    ledger.create_account(tenant, "bench-a", asset="USD")
    ledger.create_account(tenant, "bench-b", asset="USD")
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        ledger.transfer(tenant, TransferRequest(f"t-{done}", "bench-a", "bench-b", "USD", "0.10"))
        done += 1
    return done / (time.perf_counter() - start)


# Bulk seed and rebuild -----------------------------------------------------------------------


def _seed(ledger: Ledger, tenant: str, rows: int) -> None:
    """Write ``rows`` movements straight into the movement tables (half cashback, half debt)."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    half = rows // 2
    engine = _engine(ledger)

    def cashback_rows(lo: int, hi: int) -> list[dict[str, Any]]:
        return [
            {
                "t": tenant, "id": f"c{i}", "a": f"card-{i // PER_HOLDER}",
                "tag": CYCLE_TAGS[(i // MOVEMENTS_PER_PAIR) % len(CYCLE_TAGS)],
                "s": 1000 + i % 7, "c": 10 + i % 3, "at": now,
            }
            for i in range(lo, hi)
        ]  # fmt: skip

    def debt_rows(lo: int, hi: int) -> list[dict[str, Any]]:
        kinds = ("charge", "charge", "repayment", "discount", "opening")
        return [
            {
                "t": tenant, "id": f"d{i}", "p": f"person-{i // PER_HOLDER}",
                "tag": CYCLE_TAGS[(i // MOVEMENTS_PER_PAIR) % len(CYCLE_TAGS)],
                "k": kinds[i % len(kinds)], "amt": 100 + i % 11, "at": now,
            }
            for i in range(lo, hi)
        ]  # fmt: skip

    cashback_insert = text(
        "INSERT INTO cashback_movements (tenant_id, movement_id, account_id, cycle_tag, kind, "
        "spend_minor, requested_minor, cashback_minor, budget_cap_minor, override, reverses_id, "
        "transfer_id, occurred_at, recorded_at) VALUES (:t, :id, :a, :tag, 'accrual', :s, :c, "
        ":c, NULL, false, NULL, NULL, :at, :at)"
    )
    debt_insert = text(
        "INSERT INTO debt_movements (tenant_id, movement_id, person_id, cycle_tag, kind, "
        "amount_minor, due_at, transfer_id, occurred_at, recorded_at) VALUES (:t, :id, :p, :tag, "
        ":k, :amt, NULL, NULL, :at, :at)"
    )
    for lo in range(0, half, SEED_CHUNK):
        hi = min(lo + SEED_CHUNK, half)
        with engine.begin() as connection:
            connection.execute(cashback_insert, cashback_rows(lo, hi))
            connection.execute(debt_insert, debt_rows(lo, hi))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE cashback_movements")
            connection.exec_driver_sql("ANALYZE debt_movements")


def _group_by_seconds(ledger: Ledger, tenant: str) -> float:
    """A plain SQL GROUP BY of the same movement rows (both tables), fetched in full."""
    engine = _engine(ledger)
    start = time.perf_counter()
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT account_id, cycle_tag, sum(spend_minor), sum(cashback_minor) "
                "FROM cashback_movements WHERE tenant_id = :t GROUP BY account_id, cycle_tag "
                "ORDER BY account_id, cycle_tag"
            ),
            {"t": tenant},
        ).all()
        connection.execute(
            text(
                "SELECT person_id, cycle_tag, kind, sum(amount_minor) FROM debt_movements "
                "WHERE tenant_id = :t GROUP BY person_id, cycle_tag, kind "
                "ORDER BY person_id, cycle_tag"
            ),
            {"t": tenant},
        ).all()
    return time.perf_counter() - start


def _rebuild_in_process(url: str, tenant: str, traced: bool) -> tuple[float, int, int, int]:
    """Rebuild in this (fresh) process: seconds, pairs, peak resident memory in KiB and (when
    ``traced``) the peak of the rebuild's own Python allocations in bytes (tracemalloc)."""
    with Ledger.open(url, migrate=False) as ledger:
        ledger.assets(tenant)
        if traced:
            tracemalloc.start()
        start = time.perf_counter()
        report = cycles.rebuild(ledger, tenant)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    return seconds, report.pairs, _high_water_kib(), peak


def _high_water_kib() -> int:
    """This process's peak resident memory. ``ru_maxrss`` is not used: Linux carries it over
    from the parent through fork and exec, so a spawned child would report the parent's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _forget_rows(ledger: Ledger, tenant: str) -> None:
    """Delete the tenant's ledger rows (a projection), so that the next rebuild writes all."""
    with _engine(ledger).begin() as connection:
        for table in ("cashback_ledger", "debt_ledger"):
            connection.execute(
                text(f"DELETE FROM {table} WHERE tenant_id = :t"),
                {"t": tenant},
            )


def _run_engine(name: str, url: str, rows: int, seconds: float) -> dict[str, Any]:
    figures: dict[str, Any] = {"engine": name}
    context = multiprocessing.get_context("spawn")
    with Ledger.open(url) as ledger:
        tenant = _tenant(ledger)
        accruals = _accruals_per_second(ledger, tenant, seconds)
        transfers = _transfers_per_second(ledger, tenant, seconds)
        figures["accruals_per_second"] = round(accruals, 1)
        figures["core_transfers_per_second"] = round(transfers, 1)
        figures["accruals_vs_core_transfer"] = round(accruals / transfers, 3)
        memory: list[dict[str, Any]] = []
        for size in sorted({max(rows // 100, 1_000), max(rows // 10, 1_000), rows}):
            seeded = _tenant(ledger)
            seed_start = time.perf_counter()
            _seed(ledger, seeded, size)
            seed_seconds = time.perf_counter() - seed_start
            group_by = _group_by_seconds(ledger, seeded)
            with context.Pool(1) as pool:
                rebuild_seconds, pairs, peak_kib, _ = pool.apply(
                    _rebuild_in_process, (url, seeded, False)
                )
            _forget_rows(ledger, seeded)
            with context.Pool(1) as pool:
                _, _, _, traced_bytes = pool.apply(_rebuild_in_process, (url, seeded, True))
            # Nothing changed since: the rebuild's own work, reads and comparisons only.
            group_by_again = _group_by_seconds(ledger, seeded)
            with context.Pool(1) as pool:
                unchanged_seconds, _, _, _ = pool.apply(_rebuild_in_process, (url, seeded, False))
            memory.append(
                {
                    "movements": size,
                    "pairs": pairs,
                    "seed_seconds": round(seed_seconds, 2),
                    "rebuild_seconds": round(rebuild_seconds, 2),
                    "rebuild_movements_per_second": round(size / rebuild_seconds),
                    "group_by_movements_per_second": round(size / group_by),
                    "rebuild_vs_group_by": round(group_by / rebuild_seconds, 4),
                    "unchanged_rebuild_seconds": round(unchanged_seconds, 2),
                    "unchanged_rebuild_vs_group_by": round(group_by_again / unchanged_seconds, 4),
                    "rebuild_peak_rss_mib": round(peak_kib / 1024, 1),
                    "rebuild_peak_traced_mib": round(traced_bytes / 2**20, 2),
                }
            )
            if size == rows:
                figures["group_by_movements_per_second"] = round(size / group_by)
                figures["accruals_vs_group_by_rows"] = round(accruals / (size / group_by), 5)
        figures["rebuild"] = memory
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="movements to rebuild")
    parser.add_argument("--seconds", type=float, default=10.0, help="per write scenario")
    parser.add_argument("--engines", nargs="+", default=["postgresql"])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    results = []
    for engine in args.engines:
        if engine == "postgresql":
            # A schema of its own: the shared database may hold another checkout's migrations.
            with private_schema(args.postgres, "bench_cycles") as (url, _):
                results.append(_run_engine(engine, url, args.rows, args.seconds))
        else:
            url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'cycles-bench.db'}"
            results.append(_run_engine(engine, url, args.rows, args.seconds))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
