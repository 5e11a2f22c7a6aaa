"""``migrate-from seeds`` of seed 002's budgets and ``ledger_entries`` (issue 12) beside a COPY
of the same entries, measured in the same run.

    .venv/bin/python bench/migrate_budgets.py                  # N = 2,000 entries and 10N
    .venv/bin/python bench/migrate_budgets.py --entries 5000 --rounds 3 --engine sqlite

A legacy schema in the seeds' shape is built in a private schema of the PostgreSQL database:
``BUDGETS`` rolling budgets and ``--entries`` entries over them, in pairs (a reserve of an
issuance, then its charge or its release), and each budget's ``balance`` as the old system kept
it (reserved - released); ``fact_accumulations`` and ``fact_balance_points`` are there, empty.
Then, in rounds whose order alternates:
- baseline: ``COPY (SELECT ... ORDER BY created_at, id) TO STDOUT`` of the entries streamed
  into ``COPY ... FROM STDIN`` of an unindexed table (one row written per entry; the migration
  writes per entry a journal row, the budget's counters, a reservation row and an event);
- migrate: ``services.migrate.migrate_seeds`` into a fresh tenant of the target, in a child
  process of its own.
Prints entries/s of both and their ratio (median of the rounds' ratios), and the child's peak
resident memory at N and at 10N: flat figures mean the migration streams.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from migrate_seeds import DEFAULT_POSTGRES, Measured, run_rounds
from points import _high_water_kib
from rewardledger.bootstrap import Ledger
from rewardledger.domain.money import format_minor
from rewardledger.domain.seed_migration import SeedTables
from rewardledger.services.migrate import migrate_seeds
from rewardledger.storage.legacy_seeds import PostgresLegacySource

BUDGETS = 20
START = datetime(2024, 1, 1)  # noqa: DTZ001 - the seed's created_at is a TIMESTAMP, no zone
ENTRY_COLUMNS = "id, budget_id, entry_type, currency, amount, ref_type, ref_id, created_at"
LEGACY_DDL = """
CREATE TABLE {schema}.fact_accumulations (id bigserial PRIMARY KEY, user_id integer,
    accum_type varchar(20), dtype varchar(40), quantity numeric, balance numeric,
    "date" timestamp, redemption_id uuid);
CREATE TABLE {schema}.fact_balance_points (user_id integer PRIMARY KEY, balance bigint,
    latest_update timestamp);
CREATE TABLE {schema}.budgets (id varchar(36) PRIMARY KEY, currency varchar(3),
    balance numeric(18,2), hard_cap numeric(18,2), soft_cap numeric(18,2), period varchar(10));
CREATE TABLE {schema}.ledger_entries (id bigint PRIMARY KEY, budget_id varchar(36),
    entry_type varchar(10), currency varchar(3), amount numeric(18,2), ref_type varchar(20),
    ref_id varchar(64), created_at timestamp);
CREATE TABLE {schema}.copied (id bigint, budget_id varchar(36), entry_type varchar(10),
    currency varchar(3), amount numeric(18,2), ref_type varchar(20), ref_id varchar(64),
    created_at timestamp);
"""


def fill_legacy(url: str, schema: str, entries: int) -> None:
    """``entries`` entries in pairs over the budgets, and each budget's balance."""
    name = sql.Identifier(schema)
    with psycopg.connect(url) as connection:
        connection.execute(LEGACY_DDL.format(schema=schema))  # type: ignore[arg-type]
        balances = [0] * BUDGETS
        copy = sql.SQL("COPY {}.ledger_entries ({}) FROM STDIN").format(
            name, sql.SQL(ENTRY_COLUMNS)
        )
        with connection.cursor() as cursor, cursor.copy(copy) as writer:
            for k in range(entries):
                pair = k // 2
                budget, issuance, cents = pair % BUDGETS, f"iss-{pair}", 1_000 + pair % 500
                if k % 2 == 0:
                    kind, signed = "reserve", cents
                    balances[budget] += cents
                elif pair % 2 == 0:
                    kind, signed = "charge", cents
                else:
                    kind, signed = "release", -cents
                    balances[budget] -= cents
                when = START + timedelta(seconds=k)
                amount = format_minor(signed, 2)
                row = (k + 1, f"bb-{budget}", kind, "USD", amount, "issuance", issuance, when)
                writer.write_row(row)
        connection.cursor().executemany(
            sql.SQL("INSERT INTO {}.budgets VALUES (%s, 'USD', %s, %s, %s, 'rolling')").format(
                name
            ),
            [
                (f"bb-{b}", format_minor(balances[b], 2), "100000000.00", "90000000.00")
                for b in range(BUDGETS)
            ],
        )


def baseline(url: str, schema: str) -> float:
    """COPY the entries, in the migration's order, into an unindexed table; its seconds."""
    name = sql.Identifier(schema)
    out = sql.SQL("COPY (SELECT {} FROM {}.ledger_entries ORDER BY created_at, id) TO STDOUT")
    into = sql.SQL("COPY {}.copied ({}) FROM STDIN")
    with psycopg.connect(url) as source, psycopg.connect(url) as target:
        target.execute(sql.SQL("TRUNCATE {}.copied").format(name))
        target.commit()
        started = time.perf_counter()
        with (
            source.cursor().copy(out.format(sql.SQL(ENTRY_COLUMNS), name)) as reader,
            target.cursor().copy(into.format(name, sql.SQL(ENTRY_COLUMNS))) as writer,
        ):
            for block in reader:
                writer.write(block)
        target.commit()
        return time.perf_counter() - started


def child(target: str, source: str, schema: str, tenant: str) -> None:
    """The migration in this fresh process; prints seconds, entries and peak memory as JSON."""
    with (
        Ledger.open(target, migrate=False) as ledger,
        PostgresLegacySource(source, SeedTables(schema)) as legacy,
        tempfile.TemporaryDirectory() as report_dir,
    ):
        started = time.perf_counter()
        result = migrate_seeds(ledger, tenant, legacy, Path(report_dir))
        seconds = time.perf_counter() - started
    entries = {t.table: t for t in result.counts.tables}["ledger_entries"]
    assert entries.bad_rows == 0, result.counts.bad
    assert entries.already_present == 0, entries
    assert result.ok, result.reconciliation
    print(json.dumps({"seconds": seconds, "rows": entries.imported, "vmhwm": _high_water_kib()}))


def run(args: argparse.Namespace) -> None:
    run_rounds(args, args.entries, Measured(fill_legacy, baseline, __file__, "ledger_entries", 4))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--entries", type=int, default=2_000, help="N (memory also at 10N)")
    parser.add_argument("--rounds", type=int, default=3)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
