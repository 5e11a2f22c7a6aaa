"""``migrate-from seeds`` (issue 12) beside a COPY of the same rows, measured in the same run.

    .venv/bin/python bench/migrate_seeds.py                    # N = 10,000 and 10N
    .venv/bin/python bench/migrate_seeds.py --rows 50000 --rounds 3 --engine sqlite

A legacy schema in the seeds' shape (``fact_accumulations`` with a key ``id``,
``fact_balance_points``) is built in a private schema of the PostgreSQL database: ``--rows``
rows over ``HOLDERS`` users, each earning 10 twice and then spending 20, so that open lots stay
bounded however long the history. Then, in rounds whose order alternates:
- baseline: ``COPY (SELECT ... ORDER BY date, id) TO STDOUT`` from the legacy table streamed
  into ``COPY ... FROM STDIN`` of an unindexed table (one row written per source row; the
  migration writes a journal row, a lot and the balances per row);
- migrate: ``services.migrate.migrate_seeds`` into a fresh tenant of the target (PostgreSQL in
  a private schema, or a SQLite file), run in a child process of its own.
Prints rows/s of both and their ratio (median of the rounds' ratios). Then memory: the
migration of N and of 10N rows, each in a fresh child process, with the child's peak resident
memory (``ru_maxrss`` from ``os.wait4`` of exactly that child, and ``VmHWM`` as the child saw
it); flat figures mean the migration streams.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from points import _high_water_kib
from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.seed_migration import SeedTables
from rewardledger.services import points
from rewardledger.services.migrate import migrate_seeds
from rewardledger.storage.legacy_seeds import PostgresLegacySource

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
HOLDERS = 500
START = datetime(2020, 1, 1)  # noqa: DTZ001 - the seed's "date" is a TIMESTAMP, no zone
LEGACY_DDL = """
CREATE TABLE {schema}.fact_accumulations (id bigserial PRIMARY KEY, user_id integer,
    accum_type varchar(20), dtype varchar(40), quantity numeric, balance numeric,
    "date" timestamp, redemption_id uuid);
CREATE TABLE {schema}.fact_balance_points (user_id integer PRIMARY KEY, balance bigint,
    latest_update timestamp);
CREATE TABLE {schema}.copied (user_id integer, accum_type varchar(20), dtype varchar(40),
    quantity numeric, balance numeric, "date" timestamp, redemption_id uuid);
"""
COLUMNS = 'user_id, accum_type, dtype, quantity, balance, "date", redemption_id'


def fill_legacy(url: str, schema: str, rows: int) -> None:
    """``rows`` rows in rounds over ``HOLDERS`` users (earn 10, earn 10, spend 20), and each
    user's balance as the old system's trigger kept it."""
    with psycopg.connect(url) as connection:
        connection.execute(LEGACY_DDL.format(schema=schema))  # type: ignore[arg-type]
        copy = sql.SQL("COPY {}.fact_accumulations ({}) FROM STDIN").format(
            sql.Identifier(schema), sql.SQL(COLUMNS)
        )
        balances = [0] * HOLDERS
        with connection.cursor() as cursor, cursor.copy(copy) as writer:
            for i in range(rows):
                user, turn = i % HOLDERS, (i // HOLDERS) % 3
                quantity = 10 if turn < 2 else -20
                balances[user] += quantity
                kind, dtype = ("earn", "invoice") if quantity > 0 else ("spend", "ocr")
                when = START + timedelta(seconds=i)
                writer.write_row((user, kind, dtype, quantity, balances[user], when, None))
        connection.execute(
            sql.SQL(
                "INSERT INTO {s}.fact_balance_points SELECT user_id, sum(quantity), now() "
                "FROM {s}.fact_accumulations GROUP BY user_id"
            ).format(s=sql.Identifier(schema))
        )


def baseline(url: str, schema: str) -> tuple[float, int]:
    """COPY the legacy rows, in the migration's order, into an unindexed table."""
    name = sql.Identifier(schema)
    out = sql.SQL('COPY (SELECT {} FROM {}.fact_accumulations ORDER BY "date", id) TO STDOUT')
    into = sql.SQL("COPY {}.copied ({}) FROM STDIN")
    with psycopg.connect(url) as source, psycopg.connect(url) as target:
        target.execute(sql.SQL("TRUNCATE {}.copied").format(name))
        target.commit()
        started = time.perf_counter()
        copied = 0
        with (
            source.cursor().copy(out.format(sql.SQL(COLUMNS), name)) as reader,
            target.cursor().copy(into.format(name, sql.SQL(COLUMNS))) as writer,
        ):
            for block in reader:
                writer.write(block)
                copied += 1
        target.commit()
        return time.perf_counter() - started, copied


def child(target: str, source: str, schema: str, tenant: str) -> None:
    """The migration in this fresh process; prints seconds, rows and peak memory as JSON."""
    with (
        Ledger.open(target, migrate=False) as ledger,
        PostgresLegacySource(source, SeedTables(schema)) as legacy,
        tempfile.TemporaryDirectory() as report_dir,
    ):
        started = time.perf_counter()
        result = migrate_seeds(ledger, tenant, legacy, Path(report_dir))
        seconds = time.perf_counter() - started
    (table,) = result.counts.tables
    assert table.bad_rows == 0, table
    assert table.already_present == 0, table
    assert result.ok, result.reconciliation
    print(json.dumps({"seconds": seconds, "rows": table.imported, "vmhwm": _high_water_kib()}))


def migrate_in_child(
    target: str, source: str, schema: str, *, script: str = __file__
) -> dict[str, float]:
    """Run ``script``'s ``child`` in a process of its own, on a fresh tenant; its figures and
    ru_maxrss."""
    tenant = f"bench{secrets.token_hex(4)}"
    with Ledger.open(target) as ledger:
        ledger.create_tenant(tenant)
        points.configure(ledger, tenant, "LUMIS")
    command = [sys.executable, script, "--child", target, source, schema, tenant]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    printed = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, printed
    figures: dict[str, float] = json.loads(printed)
    figures["ru_maxrss_mib"] = usage.ru_maxrss / 1024
    figures["vmhwm_mib"] = figures.pop("vmhwm") / 1024
    return figures


@contextmanager
def target_url(engine: str, postgres: str) -> Iterator[str]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'target.db'}"
        return
    with private_schema(postgres, "bench_migrate") as (url, _):
        yield url


@dataclass(frozen=True)
class Measured:
    """What one benchmark of ``migrate-from seeds`` builds, copies and calls its rows."""

    fill: Callable[[str, str, int], None]  # (url, schema, N): the legacy tables
    copy_seconds: Callable[[str, str], float]  # (url, schema): the COPY baseline's seconds
    script: str  # the script whose ``child`` runs the migration
    rows: str  # what the rows are called in the printed line
    digits: int = 3  # of the printed ratio


def run_rounds(args: argparse.Namespace, size: int, measured: Measured) -> None:
    """At N = ``size`` (``args.rounds`` rounds, COPY first and last in turn) and at 10N (one
    round): migrate vs COPY of the same rows, and the child's peak memory."""
    with target_url(args.engine, args.postgres) as target:
        for rows, rounds in ((size, args.rounds), (10 * size, 1)):
            with private_schema(args.postgres, "legacy") as (_, schema):
                measured.fill(args.postgres, schema, rows)
                ratios, copies, migrations, memory = [], [], [], []
                for turn in range(rounds):
                    first_copy = turn % 2 == 0
                    if first_copy:
                        copy_seconds = measured.copy_seconds(args.postgres, schema)
                    figures = migrate_in_child(
                        target, args.postgres, schema, script=measured.script
                    )
                    if not first_copy:
                        copy_seconds = measured.copy_seconds(args.postgres, schema)
                    copies.append(rows / copy_seconds)
                    migrations.append(figures["rows"] / figures["seconds"])
                    ratios.append(migrations[-1] / copies[-1])
                    memory.append(figures)
            print(
                f"{args.engine} target, {rows:,} {measured.rows} ({rounds} rounds): migrate "
                f"{statistics.median(migrations):,.0f} rows/s, COPY "
                f"{statistics.median(copies):,.0f} rows/s, "
                f"ratio {statistics.median(ratios):.{measured.digits}f}; "
                f"peak ru_maxrss {max(m['ru_maxrss_mib'] for m in memory):.1f} MiB, "
                f"VmHWM {max(m['vmhwm_mib'] for m in memory):.1f} MiB"
            )


def run(args: argparse.Namespace) -> None:
    run_rounds(
        args,
        args.rows,
        Measured(
            fill_legacy, lambda url, schema: baseline(url, schema)[0], __file__, "legacy rows"
        ),
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rows", type=int, default=10_000, help="N (memory also at 10N)")
    parser.add_argument("--rounds", type=int, default=3)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
