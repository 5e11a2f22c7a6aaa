"""Moving the seeds' points tables into a tenant (issue 12): figures, idempotency, bad rows.

The source is a real PostgreSQL schema in the seeds' shape (``tests.legacy_seeds``); the
target is each engine under test (SQLite and PostgreSQL).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.money import format_minor
from rewardledger.domain.seed_migration import SeedTables, migrated_id, minor_of, seed_tables
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles, debt, points, redemptions
from rewardledger.services.migrate import SeedMigration, migrate_seeds
from rewardledger.services.migrate.report import difference_of
from rewardledger.storage.legacy_seeds import PostgresLegacySource
from tests.legacy_seeds import SOURCE_URL, Planted, execute, legacy_schema


@pytest.fixture(scope="module")
def legacy() -> Iterator[Planted]:
    with legacy_schema() as planted:
        yield planted


@pytest.fixture
def lumis(ledger: Ledger, tenant_id: str) -> str:
    points.configure(ledger, tenant_id, "LUMIS")
    return tenant_id


def _migrate(
    ledger: Ledger, tenant_id: str, schema: str, report_dir: Path, batch_size: int = 1_000
) -> SeedMigration:
    with PostgresLegacySource(SOURCE_URL, SeedTables(schema)) as source:
        return migrate_seeds(ledger, tenant_id, source, report_dir, batch_size=batch_size)


def test_every_users_balance_is_the_sum_of_its_rows_and_a_rerun_imports_nothing(
    ledger: Ledger, lumis: str, legacy: Planted, tmp_path: Path
) -> None:
    first = _migrate(ledger, lumis, legacy.schema, tmp_path / "one", batch_size=7)
    (table,) = first.counts.tables
    assert (table.rows_read, table.imported, table.bad_rows) == (legacy.rows, legacy.rows, 0)
    for user, total in legacy.sums.items():
        assert points.balance(ledger, lumis, str(user)).balance.minor == total
    assert points.validate(ledger, lumis) == []
    second = _migrate(ledger, lumis, legacy.schema, tmp_path / "two")
    (again,) = second.counts.tables
    assert (again.imported, again.already_present) == (0, legacy.rows)


def test_the_report_lists_exactly_the_planted_differences(
    ledger: Ledger, lumis: str, legacy: Planted, tmp_path: Path
) -> None:
    result = _migrate(ledger, lumis, legacy.schema, tmp_path)
    assert not result.ok
    with (tmp_path / "reconciliation.csv").open() as stream:
        listed = {(r["id"], r["old"], r["rewardledger"]) for r in csv.DictReader(stream)}
    expected = {
        (str(user), str(stored), str(legacy.sums[user]))
        for user, stored in legacy.off_balance.items()
    }
    expected |= {(str(user), "", str(legacy.sums[user])) for user in legacy.without_balance}
    assert listed == expected
    report = json.loads((tmp_path / "reconciliation.json").read_text())
    assert {(d["id"], d["old"] or "") for d in report["differences"]} == {
        (i, old) for i, old, _ in expected
    }
    assert report["summary"] == {
        "compared": {"user": len(legacy.sums)},
        "differing": {"user": len(expected)},
    }


BAD_ROWS = (
    'INSERT INTO {table} (id, user_id, accum_type, dtype, quantity, "date") VALUES '
    "(9001, 1, 'bonus', 'invoice', 5, '2020-01-01'), "
    "(9002, 2, 'earn', 'invoice', 5, '2020-01-01 00:01'), "
    "(9003, 2, 'earn', 'invoice', -5, '2020-01-01 00:02'), "
    "(9004, 3, 'earn', 'invoice', 1.5, '2020-01-01 00:03')"
)


def _journal_ids(ledger: Ledger, tenant_id: str, user: str) -> set[str]:
    return {r.id for r in points.accumulations(ledger, tenant_id, user).rows}


def test_a_bad_row_is_reported_by_key_and_its_batch_is_left_unwritten(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=3, per_user=4) as planted:
        execute(BAD_ROWS.format(table=f"{planted.schema}.fact_accumulations"))
        result = _migrate(ledger, lumis, planted.schema, tmp_path, batch_size=5)
    (counts,) = result.counts.tables
    why = {b.key: b.message for b in result.counts.bad}
    assert {"9001", "9003", "9004"} <= set(why)
    assert "accum_type" in why["9001"]
    assert "positive for earn" in why["9003"]
    assert "decimal places" in why["9004"]
    # The four rows sort first (2020) and share the first batch with one generated row:
    # none of the five is written, not even the good 9002.
    assert counts.batches_skipped >= 1
    assert migrated_id("fact_accumulations", 9002) not in _journal_ids(ledger, lumis, "2")
    assert not result.ok


def test_with_skip_bad_rows_only_the_bad_rows_are_left_out(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=3, per_user=4) as planted:
        execute(BAD_ROWS.format(table=f"{planted.schema}.fact_accumulations"))
        with PostgresLegacySource(SOURCE_URL, SeedTables(planted.schema)) as source:
            result = migrate_seeds(
                ledger, lumis, source, tmp_path, batch_size=5, skip_bad_rows=True
            )
    (counts,) = result.counts.tables
    assert sorted(b.key for b in result.counts.bad) == ["9001", "9003", "9004"]
    assert (counts.imported, counts.batches_skipped) == (planted.rows + 1, 0)
    assert migrated_id("fact_accumulations", 9002) in _journal_ids(ledger, lumis, "2")


def test_tables_under_other_names_are_read_where_table_name_says(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=3, per_user=2, plant=False) as planted:
        execute(f"ALTER TABLE {planted.schema}.fact_balance_points RENAME TO balances_x")
        tables = seed_tables(planted.schema, ["fact_balance_points=balances_x"])
        with PostgresLegacySource(SOURCE_URL, tables) as source:
            result = migrate_seeds(ledger, lumis, source, tmp_path)
        assert result.ok
        assert result.reconciliation.compared == {"user": len(planted.sums)}
        with pytest.raises(ValidationError, match="--table-name fact_balance_points=NAME"):
            PostgresLegacySource(SOURCE_URL, SeedTables(planted.schema))


def test_a_table_under_another_name_is_read_with_table_name(tmp_path: Path) -> None:
    tables = seed_tables("legacy", ["fact_accumulations=points_rows"])
    assert tables.table("fact_accumulations") == "points_rows"
    assert tables.table("fact_balance_points") == "fact_balance_points"
    with pytest.raises(ValidationError, match="LOGICAL=ACTUAL"):
        seed_tables("legacy", ["budgets"])
    with pytest.raises(ValidationError, match="plain SQL name"):
        seed_tables("rewards; drop", [])


@pytest.fixture
def with_debt(ledger: Ledger, lumis: str) -> str:
    ledger.create_asset(lumis, "USD", scale=2)
    debt.set_program(ledger, lumis, currency="USD")
    return lumis


def test_debt_movements_land_in_their_cycles_and_debt_ledger_is_reconciled(
    ledger: Ledger, with_debt: str, tmp_path: Path
) -> None:
    with legacy_schema(users=3, per_user=2, debt=True) as planted:
        first = _migrate(ledger, with_debt, planted.schema, tmp_path / "one")
        second = _migrate(ledger, with_debt, planted.schema, tmp_path / "two")
    counts = {t.table: t for t in first.counts.tables}
    assert (counts["debt_movements"].imported, counts["debt_movements"].bad_rows) == (
        planted.debt_rows,
        0,
    )
    for (person, tag), net in planted.net_debt.items():
        row, _ = cycles.get_debt_row(ledger, with_debt, person, tag)
        assert format_minor(row.net_debt_minor, 2) == net, (person, tag)
    again = {t.table: t for t in second.counts.tables}["debt_movements"]
    assert (again.imported, again.already_present) == (0, planted.debt_rows)
    with (tmp_path / "one" / "reconciliation.csv").open() as stream:
        listed = {
            (r["id"], r["old"], r["rewardledger"])
            for r in csv.DictReader(stream)
            if r["subject"] == "person cycle"
        }
    assert listed == {
        (f"{p}/{t}", stored, planted.net_debt[(p, t)])
        for (p, t), stored in planted.off_net_debt.items()
    }
    # The row without a cycle tag ("the current cycle") is not compared.
    assert first.reconciliation.compared["person cycle"] == len(planted.net_debt)


def test_a_negative_repayment_is_a_bad_row_and_its_batch_writes_nothing(
    ledger: Ledger, with_debt: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, debt=True, plant=False) as planted:
        execute(
            f"INSERT INTO {planted.schema}.debt_movements (id, person_id, cycle_tag, new_debt, "
            "repayments, created_at) VALUES (7001, 'p9', '2024-12', 10, -5, '2024-12-01'), "
            "(7002, 'p9', '2024-12', 20, 0, '2024-12-02')"
        )
        result = _migrate(ledger, with_debt, planted.schema, tmp_path, batch_size=4)
    assert [(b.table, b.key) for b in result.counts.bad] == [("debt_movements", "7001")]
    assert "repayments must not be negative" in result.counts.bad[0].message
    with pytest.raises(NotFound):
        cycles.get_debt_row(ledger, with_debt, "p9", "2024-12")  # 7002 shared the batch
    assert not result.ok


@pytest.fixture
def with_cashback(ledger: Ledger, lumis: str) -> str:
    ledger.create_asset(lumis, "USD", scale=2)
    cashback.set_program(ledger, lumis, currency="USD", minimum_spend="1.00", default_cap="10.00")
    return lumis


def test_cashback_accruals_credit_what_the_old_system_credited_and_are_reconciled(
    ledger: Ledger, with_cashback: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, cashback=True) as planted:
        first = _migrate(ledger, with_cashback, planted.schema, tmp_path / "one")
        second = _migrate(ledger, with_cashback, planted.schema, tmp_path / "two")
    moved = {t.table: t for t in first.counts.tables}["cashback_movements"]
    assert (moved.imported, moved.bad_rows) == (planted.cashback_rows, 0)
    # The programme's default cap (10.00) is below the old system's (25.00): the migrated
    # accruals still credit exactly what the old system credited.
    for (account, tag), total in planted.total_cashback.items():
        row, _ = cycles.get_cashback_row(ledger, with_cashback, account, tag)
        assert format_minor(row.total_cashback_minor, 2) == total, (account, tag)
    again = {t.table: t for t in second.counts.tables}["cashback_movements"]
    assert (again.imported, again.already_present) == (0, planted.cashback_rows)
    with (tmp_path / "one" / "reconciliation.csv").open() as stream:
        listed = {
            (r["id"], r["old"], r["rewardledger"])
            for r in csv.DictReader(stream)
            if r["subject"] == "account cycle"
        }
    assert listed == {
        (f"{a}/{t}", stored, planted.total_cashback[(a, t)])
        for (a, t), stored in planted.off_total_cashback.items()
    }
    assert first.reconciliation.compared["account cycle"] == len(planted.total_cashback)


def test_a_negative_cashback_amount_is_a_bad_row_reported_by_key(
    ledger: Ledger, with_cashback: str, tmp_path: Path
) -> None:
    with legacy_schema(users=2, per_user=2, cashback=True, plant=False) as planted:
        execute(
            f"INSERT INTO {planted.schema}.cashback_movements (id, account_id, cycle_tag, "
            "spend_amount, cashback_amount, created_at) VALUES "
            "(8001, 'a9', '2024-12', 10, -1, '2024-12-01'), "
            "(8002, 'a9', '2024-12', 10, 1, '2024-12-02')"
        )
        result = _migrate(ledger, with_cashback, planted.schema, tmp_path, batch_size=4)
    assert [(b.table, b.key) for b in result.counts.bad] == [("cashback_movements", "8001")]
    with pytest.raises(NotFound):
        cycles.get_cashback_row(ledger, with_cashback, "a9", "2024-12")  # 8002: same batch


def test_an_old_figure_is_never_rounded_to_compare_it() -> None:
    assert difference_of("user", "7", "balance", Decimal("120.00"), 120, 0) is None
    odd = difference_of("user", "7", "balance", Decimal("120.5"), 120, 0)
    assert odd is not None
    assert (odd.old, odd.rewardledger, odd.difference) == (
        "120.5 (not an amount of 0 decimal places)",
        "120",
        "",
    )
    missing = difference_of("user", "8", "balance", None, 0, 0)
    assert missing is not None
    assert (missing.old, missing.difference) == (None, "0")
    with pytest.raises(ValidationError, match="must be a number"):
        minor_of(0.1, 2, "balance")  # a float is refused, never converted


def test_user_redemptions_are_found_counted_and_not_migrated(
    ledger: Ledger, lumis: str, tmp_path: Path
) -> None:
    with legacy_schema(users=3, per_user=3, plant=False, redemptions=True) as planted:
        result = _migrate(ledger, lumis, planted.schema, tmp_path)
    (skipped,) = result.counts.skipped
    assert (skipped.table, skipped.rows) == ("user_redemptions", 3)
    assert "spend twice" in skipped.why
    assert "user_redemptions" not in {t.table for t in result.counts.tables}
    assert redemptions.list_page(ledger, lumis).redemptions == []
    # Nothing was spent a second time: every balance is still the sum of its rows.
    for user, total in planted.sums.items():
        assert points.balance(ledger, lumis, str(user)).balance.minor == total
    assert result.ok
