"""Moving seed 002's budgets and their ledger_entries into a tenant (issue 12): figures,
idempotency, the reconciliation of each budget's balance, bad rows.

The source is a real PostgreSQL schema in the seeds' shape (``tests.legacy_seeds``); the
target is each engine under test (SQLite and PostgreSQL).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rewardledger.domain.budgets import charge_id
from rewardledger.domain.errors import NotFound
from rewardledger.domain.seed_budgets import reversed_entry_key
from rewardledger.domain.seed_migration import SeedTables, migrated_id
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, points
from rewardledger.services.migrate import SeedMigration, migrate_seeds
from rewardledger.storage.legacy_seeds import PostgresLegacySource
from tests.legacy_seeds import SOURCE_URL, execute, legacy_schema


@pytest.fixture
def lumis(ledger: Ledger, tenant_id: str) -> str:
    points.configure(ledger, tenant_id, "LUMIS")
    return tenant_id


def _migrate(
    ledger: Ledger,
    tenant_id: str,
    schema: str,
    report_dir: Path,
    batch_size: int = 1_000,
    *,
    skip_bad_rows: bool = False,
) -> SeedMigration:
    with PostgresLegacySource(SOURCE_URL, SeedTables(schema)) as source:
        return migrate_seeds(
            ledger,
            tenant_id,
            source,
            report_dir,
            batch_size=batch_size,
            skip_bad_rows=skip_bad_rows,
        )


def _listed(report_dir: Path) -> set[tuple[str, str, str]]:
    with (report_dir / "reconciliation.csv").open() as stream:
        return {
            (r["id"], r["old"], r["rewardledger"])
            for r in csv.DictReader(stream)
            if r["subject"] == "budget"
        }


def test_budgets_and_their_entries_land_and_each_balance_is_reconciled(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, budgets=True) as planted:
        first = _migrate(ledger, lumis, planted.schema, tmp_path / "one", batch_size=4)
        second = _migrate(ledger, lumis, planted.schema, tmp_path / "two")
    counts = {t.table: t for t in first.counts.tables}
    assert (counts["budgets"].imported, counts["budgets"].bad_rows) == (planted.budget_rows, 0)
    entries = counts["ledger_entries"]
    assert (entries.imported, entries.bad_rows) == (planted.budget_entry_rows, 0), first.counts.bad
    for budget, balance in planted.budget_balance.items():
        figures = budgets.utilization(ledger, lumis, budget)
        assert figures.seed_balance == balance, budget
        assert figures.funded != "0.00"  # the fund entry, as a top-up
    policy = budgets.get_budget(ledger, lumis, "b-zwg-rolling")
    assert (policy.currency, policy.period.value, policy.hard_cap_minor) == (
        "ZWG",
        "rolling",
        1_000_000,
    )
    # The reverse entry corrected the charge its ref_id names.
    (fix,) = budgets.corrections(ledger, lumis, "b-usd-monthly")
    charged = planted.reversed_charges["b-usd-monthly"]
    assert fix.reverses_id == charge_id("b-usd-monthly", reversed_entry_key(str(charged)))
    assert fix.amount == "5.00"
    # Exactly the planted difference is listed, in the CSV and the JSON.
    assert _listed(tmp_path / "one") == {
        (b, stored, planted.budget_balance[b]) for b, stored in planted.off_budget_balance.items()
    }
    report = json.loads((tmp_path / "one" / "reconciliation.json").read_text())
    assert report["summary"]["compared"]["budget"] == planted.budget_rows
    assert report["summary"]["differing"]["budget"] == 1
    assert not first.ok
    again = {t.table: t for t in second.counts.tables}
    assert (again["budgets"].imported, again["budgets"].already_present) == (0, 2)
    assert (again["ledger_entries"].imported, again["ledger_entries"].already_present) == (
        0,
        planted.budget_entry_rows,
    )


def test_a_clean_budget_source_reconciles_with_no_difference(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, plant=False, budgets=True) as planted:
        result = _migrate(ledger, lumis, planted.schema, tmp_path)
    assert result.ok, (result.counts.bad, _listed(tmp_path))
    assert result.reconciliation.compared["budget"] == planted.budget_rows


BAD_ENTRIES = (
    "INSERT INTO {table} (id, budget_id, entry_type, currency, amount, ref_id, created_at) "
    "VALUES (9001, 'b-usd-monthly', 'expire', 'USD', 5, 'x', '2025-01-01'), "
    "(9002, 'b-usd-monthly', 'fund', 'USD', 7, NULL, '2025-01-01 00:01'), "
    "(9003, 'b-usd-monthly', 'charge', 'USD', 5, 'never-reserved', '2025-01-01 00:02'), "
    "(9004, 'b-none', 'fund', 'USD', 5, NULL, '2025-01-01 00:03')"
)


def test_a_bad_entry_is_reported_by_key_and_its_batch_is_left_unwritten(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, budgets=True) as planted:
        execute(BAD_ENTRIES.format(table=f"{planted.schema}.ledger_entries"))
        result = _migrate(ledger, lumis, planted.schema, tmp_path, batch_size=4)
    why = {b.key: b.message for b in result.counts.bad if b.table == "ledger_entries"}
    # The four rows sort first (2025-01) and make the first batch: the unmappable 9001 is
    # found before anything is written, and the good 9002 is not written either.
    assert set(why) == {"9001"}
    assert "entry_type" in why["9001"]
    key = migrated_id("ledger_entries", 9002)
    with pytest.raises(NotFound):
        ledger.get_transfer(lumis, f"budget:b-usd-monthly:fund:{key}")
    assert not result.ok


def test_with_skip_bad_rows_a_refused_entry_is_left_out_and_the_rest_written(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, budgets=True) as planted:
        execute(BAD_ENTRIES.format(table=f"{planted.schema}.ledger_entries"))
        result = _migrate(ledger, lumis, planted.schema, tmp_path, batch_size=4, skip_bad_rows=True)
    why = {b.key: b.message for b in result.counts.bad if b.table == "ledger_entries"}
    assert set(why) == {"9001", "9003", "9004"}
    assert "never-reserved" in why["9003"]
    assert "b-none" in why["9004"]
    key = migrated_id("ledger_entries", 9002)
    assert ledger.get_transfer(lumis, f"budget:b-usd-monthly:fund:{key}").amount_minor == 700


REFUSED_ENTRIES = (
    "INSERT INTO {table} (id, budget_id, entry_type, currency, amount, ref_id, created_at) "
    "VALUES (9101, 'b-usd-monthly', 'fund', 'USD', 7, NULL, '2025-01-01 00:01'), "
    "(9102, 'b-usd-monthly', 'reserve', 'USD', 20000, 'too-big', '2025-01-01 00:02')"
)


def test_an_entry_the_budget_service_refuses_rolls_its_whole_batch_back(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, budgets=True) as planted:
        execute(REFUSED_ENTRIES.format(table=f"{planted.schema}.ledger_entries"))
        result = _migrate(ledger, lumis, planted.schema, tmp_path, batch_size=3)
    entries = {t.table: t for t in result.counts.tables}["ledger_entries"]
    (bad,) = [b for b in result.counts.bad if b.table == "ledger_entries"]
    # The reserve passes the mapping and is refused by the hard cap (10,000.00) while the
    # batch is written: the fund before it in the same unit is rolled back too.
    assert bad.key == "9102"
    assert "hard cap" in bad.message.lower()
    assert entries.batches_skipped == 1
    key = migrated_id("ledger_entries", 9101)
    with pytest.raises(NotFound):
        ledger.get_transfer(lumis, f"budget:b-usd-monthly:fund:{key}")
    with pytest.raises(NotFound):
        budgets.get_reservation(ledger, lumis, "b-usd-monthly", "too-big")
    # The batches after it were written (the third row of the first batch was not).
    assert entries.imported == planted.budget_entry_rows - 1
