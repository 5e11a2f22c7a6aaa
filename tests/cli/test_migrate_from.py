"""``rewardledger migrate-from seeds`` as a real process (issue 12): counts, report, exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import Cli
from tests.legacy_seeds import SOURCE_URL, execute, legacy_schema

RUN_SECONDS_MAX = 120


def _migrate_from(
    url: str, tenant: str, schema: str, report_dir: Path
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    environment["COLUMNS"] = "200"
    command = [sys.executable, "-m", "rewardledger.cli.main", "--db", url, "migrate-from"]
    return subprocess.run(
        [
            *command,
            "seeds",
            "--source",
            SOURCE_URL,
            "--tenant",
            tenant,
            "--schema",
            schema,
            "--report-dir",
            str(report_dir),
            "--batch-size",
            "10",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=RUN_SECONDS_MAX,
        check=False,
    )


def _cells(table: str, first: str) -> list[str]:
    """The cells of the rich table row that starts with ``first``."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{table}")


def _wallet(cli: Cli, tenant: str) -> None:
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("points", "configure", "-t", tenant)
    assert result.exit_code == 0, result.output


def test_differences_exit_1_and_a_second_run_imports_nothing(
    cli: Cli, tenant: str, tmp_path: Path
) -> None:
    _wallet(cli, tenant)
    with legacy_schema() as planted:
        first = _migrate_from(cli.url, tenant, planted.schema, tmp_path / "one")
        second = _migrate_from(cli.url, tenant, planted.schema, tmp_path / "two")
    assert first.returncode == 1, first.stderr
    rows = str(planted.rows)
    # source table, read, imported, already present, bad, batches skipped
    assert _cells(first.stdout, "fact_accumulations") == [
        "fact_accumulations",
        rows,
        rows,
        "0",
        "0",
        "0",
    ]
    assert _cells(first.stdout, "user")[1:] == [str(len(planted.sums)), "2"]
    assert "reconcile fact_balance_points" in first.stderr  # the progress bars
    report = json.loads((tmp_path / "one" / "reconciliation.json").read_text())
    assert report["summary"]["differing"] == {"user": 2}
    assert second.returncode == 1
    assert _cells(second.stdout, "fact_accumulations")[1:4] == [rows, "0", rows]
    assert f"fact_accumulations: nothing new to import; all {rows} rows" in second.stdout


def test_a_clean_source_exits_0(cli: Cli, tenant: str, tmp_path: Path) -> None:
    _wallet(cli, tenant)
    with legacy_schema(users=4, per_user=3, plant=False, redemptions=True) as planted:
        done = _migrate_from(cli.url, tenant, planted.schema, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # user_redemptions is found and skipped, with why (the exit stays 0).
    assert "user_redemptions (3 rows): not migrated" in done.stdout
    assert (tmp_path / "reconciliation.csv").read_text().splitlines() == [
        "subject,id,figure,old,rewardledger,difference"
    ]


def test_an_unknown_schema_says_which_option_names_it(
    cli: Cli, tenant: str, tmp_path: Path
) -> None:
    _wallet(cli, tenant)
    done = _migrate_from(cli.url, tenant, "no_such_schema", tmp_path)
    assert done.returncode == 2
    assert "--schema" in done.stderr


def test_budgets_are_migrated_with_their_bars_and_their_differences(
    cli: Cli, tenant: str, tmp_path: Path
) -> None:
    _wallet(cli, tenant)
    with legacy_schema(users=2, per_user=2, plant=False, budgets=True) as planted:
        # Only the budgets' stored balance is wrong: the figure that makes the exit 1.
        execute(
            f"UPDATE {planted.schema}.budgets SET balance = balance + 1 WHERE id = %s",
            "b-usd-monthly",
        )
        done = _migrate_from(cli.url, tenant, planted.schema, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    entries = str(planted.budget_entry_rows)
    assert _cells(done.stdout, "budgets")[1:3] == ["2", "2"]
    assert _cells(done.stdout, "ledger_entries")[1:3] == [entries, entries]
    assert _cells(done.stdout, "budget")[1:] == ["2", "1"]
    assert "migrate ledger_entries" in done.stderr
    assert "reconcile budgets" in done.stderr
    report = json.loads((tmp_path / "reconciliation.json").read_text())
    (difference,) = report["differences"]
    assert (difference["subject"], difference["id"], difference["difference"]) == (
        "budget",
        "b-usd-monthly",
        "-1.00",
    )
