"""``rewardledger budget ...`` on SQLite and PostgreSQL: the operations, their errors and exit
codes, and a report written to a CSV file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.helpers import Cli


def _ok(cli: Cli, *args: str) -> dict[str, object]:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def _set_up(cli: Cli, tenant: str) -> None:
    assert cli("tenant", "create", tenant, "--timezone", "Africa/Harare").exit_code == 0
    created = _ok(
        cli,
        "budget", "create", "spring", "-t", tenant, "--currency", "ZWG",
        "--hard-cap", "1000.00", "--soft-cap", "800.00", "--period", "quarterly",
    )  # fmt: skip
    assert (created["period"], created["alert_thresholds"]) == ("quarterly", [80, 95])
    _ok(cli, "budget", "topup", "spring", "5000.00", "-t", tenant, "--currency", "ZWG",
        "--key", "seed")  # fmt: skip


def test_a_budget_is_created_funded_reserved_and_charged_from_the_command_line(
    cli: Cli, tenant: str
) -> None:
    _set_up(cli, tenant)
    reserved = _ok(cli, "budget", "reserve", "spring", "iss-1", "300.00", "-t", tenant,
                   "--currency", "ZWG")  # fmt: skip
    assert reserved["state"] == "reserved"
    charged = _ok(cli, "budget", "charge", "spring", "iss-1", "-t", tenant, "--amount", "250.00")
    assert charged["charged_amount"] == "250.00"
    figures = _ok(cli, "budget", "utilization", "spring", "-t", tenant)
    assert (figures["used"], figures["released"], figures["remaining"]) == (
        "250.00",
        "50.00",
        "750.00",
    )
    assert _ok(cli, "budget", "reconcile", "-t", tenant)["clean"] is True
    shown = _ok(cli, "budget", "show", "spring", "-t", tenant)
    assert shown["currency"] == "ZWG"


def test_a_reserve_above_the_hard_cap_exits_1_with_its_code(cli: Cli, tenant: str) -> None:
    _set_up(cli, tenant)
    result = cli("budget", "reserve", "spring", "big", "1000.01", "-t", tenant, "--currency", "ZWG")
    assert result.exit_code == 1
    assert "error hard_cap_exceeded:" in result.stderr
    alerts = _ok(cli, "budget", "alerts", "-t", tenant)["alerts"]
    assert [a["kind"] for a in alerts] == ["reserve_rejected:hard_cap_exceeded"]  # type: ignore[attr-defined]


def test_a_second_charge_exits_1_already_charged_and_release_of_it_too(
    cli: Cli, tenant: str
) -> None:
    _set_up(cli, tenant)
    _ok(cli, "budget", "reserve", "spring", "r", "1.00", "-t", tenant, "--currency", "ZWG")
    _ok(cli, "budget", "charge", "spring", "r", "-t", tenant)
    for command in ("charge", "release"):
        result = cli("budget", command, "spring", "r", "-t", tenant)
        assert result.exit_code == 1
        assert "error already_charged:" in result.stderr


def test_an_amount_with_too_many_decimals_exits_2(cli: Cli, tenant: str) -> None:
    _set_up(cli, tenant)
    result = cli("budget", "topup", "spring", "1.001", "-t", tenant, "--currency", "ZWG",
                 "--key", "k")  # fmt: skip
    assert result.exit_code == 2
    assert "error validation_error:" in result.stderr


def test_a_correction_needs_a_note_and_records_who(cli: Cli, tenant: str) -> None:
    _set_up(cli, tenant)
    fix = _ok(
        cli, "budget", "correct", "spring", "-t", tenant, "--reverses", "budget:spring:fund:seed",
        "--amount", "100.00", "--note", "over-funded", "--key", "c1", "--actor", "finance@acme",
    )  # fmt: skip
    assert (fix["actor"], fix["amount"]) == ("finance@acme", "100.00")
    result = cli("budget", "correct", "spring", "-t", tenant, "--reverses",
                 "budget:spring:fund:seed", "--note", " ", "--key", "c2")  # fmt: skip
    assert result.exit_code == 2


def test_report_writes_a_csv_file(cli: Cli, tenant: str, tmp_path: Path) -> None:
    _set_up(cli, tenant)
    _ok(cli, "budget", "reserve", "spring", "a", "10.00", "-t", tenant, "--currency", "ZWG")
    target = tmp_path / "budgets.csv"
    result = cli("budget", "report", "-t", tenant, "--range", "year", "--format", "csv",
                 "-o", str(target))  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
    assert [(r["budget_id"], r["total_fund"], r["issuance_count"]) for r in rows] == [
        ("spring", "5000.00", "1")
    ]


def test_entries_list_the_budgets_journal(cli: Cli, tenant: str) -> None:
    _set_up(cli, tenant)
    page = _ok(cli, "budget", "entries", "spring", "-t", tenant)
    assert [e["entry_type"] for e in page["entries"]] == ["fund"]  # type: ignore[attr-defined]


def test_the_seeds_budget_commands(cli: Cli, tenant: str) -> None:
    assert cli("tenant", "create", tenant, "--timezone", "Africa/Harare").exit_code == 0
    created = _ok(cli, "budget", "create", "b", "-t", tenant, "--currency", "USD",
                  "--hard-cap", "100.00", "--funding", "on_demand")  # fmt: skip
    assert (created["funding"], created["soft_cap"]) == ("on_demand", "80.00")
    _ok(cli, "budget", "reserve", "b", "r1", "90.00", "-t", tenant, "--currency", "USD")
    assert _ok(cli, "budget", "utilization", "b", "-t", tenant)["seed_balance"] == "90.00"
    entries = _ok(cli, "budget", "entries", "b", "-t", tenant, "--from", "2000-01-01")
    assert [e["entry_type"] for e in entries["entries"]] == ["reserve", "fund"]  # type: ignore[index]
    schedule = _ok(cli, "budget", "reset-schedule", "b", "-t", tenant)
    assert schedule["period_type"] == "monthly"
    reset = _ok(cli, "budget", "reset", "b", "-t", tenant, "--key", "k1")
    assert reset["replayed"] is False
    summary = _ok(cli, "budget", "reset-all", "-t", tenant, "--period-type", "monthly",
                  "--key", "k2")  # fmt: skip
    assert summary["budgets_reset"] == 1
    fixed = _ok(cli, "budget", "fix", "b", "-t", tenant, "--note", "checked", "--key", "f1")
    assert fixed["fixed"] == []
    assert cli("budget", "fix", "b", "-t", tenant, "--note", " ", "--key", "f2").exit_code == 2
