"""``rewardledger cashback|debt|cycles ...``: programmes, movements, ledgers, refresh, rebuild."""

from __future__ import annotations

import csv
import io
import json

from rewardledger.bootstrap import Ledger
from tests.cli.helpers import Cli


def _tenant_with_usd(db_url: str, tenant: str) -> None:
    with Ledger.open(db_url) as ledger:
        ledger.create_tenant(tenant, timezone="Africa/Harare")
        ledger.create_asset(tenant, "USD", scale=2)


def test_accruals_recorded_by_the_cli_appear_after_a_refresh_and_in_csv(
    cli: Cli, db_url: str, tenant: str
) -> None:
    _tenant_with_usd(db_url, tenant)
    result = cli(
        "cashback", "program", "-t", tenant, "--currency", "USD",
        "--minimum-spend", "10.00", "--default-cap", "5.00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert cli("cycles", "mode", "-t", tenant, "job").exit_code == 0
    accrued = cli(
        "cashback", "accrue", "-t", tenant, "--id", "a1", "--account", "card-1",
        "--spend", "80.00", "--cashback", "8.00", "--cycle", "2026-03",
    )  # fmt: skip
    assert accrued.exit_code == 0, accrued.output
    assert json.loads(accrued.stdout)["cashback_amount"] == "5.00"
    assert json.loads(cli("cashback", "ledger", "-t", tenant).stdout) == {"rows": []}
    refreshed = cli("cycles", "refresh", "-t", tenant)
    assert refreshed.exit_code == 0, refreshed.output
    assert json.loads(refreshed.stdout) == {"pairs": 1, "rows_changed": 1}
    exported = cli("cashback", "ledger", "-t", tenant, "--csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["account_id"], r["cycle_tag"], r["eligibility"]) for r in rows] == [
        ("card-1", "2026-03", "reached_cap")
    ]
    rebuilt = cli("cycles", "rebuild", "-t", tenant)
    assert json.loads(rebuilt.stdout) == {"pairs": 1, "rows_changed": 0}


def test_debt_movements_recorded_by_the_cli_show_in_the_debt_ledger(
    cli: Cli, db_url: str, tenant: str
) -> None:
    _tenant_with_usd(db_url, tenant)
    assert cli("debt", "program", "-t", tenant, "--currency", "USD").exit_code == 0
    assert cli("cycles", "mode", "-t", tenant, "inline").exit_code == 0
    for movement_id, kind, amount in (("d1", "charge", "30.00"), ("d2", "repayment", "45.00")):
        result = cli(
            "debt", "record", "-t", tenant, "--id", movement_id, "--person", "ana",
            "--kind", kind, "--amount", amount, "--cycle", "2026-03",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    rows = json.loads(cli("debt", "ledger", "-t", tenant, "--person", "ana").stdout)["rows"]
    assert [(r["net_debt"], r["status"], r["notes"]) for r in rows] == [
        ("-15.00", "repaid", "overpaid by 15.00")
    ]


def test_a_movement_without_a_programme_exits_with_its_error_code(
    cli: Cli, db_url: str, tenant: str
) -> None:
    _tenant_with_usd(db_url, tenant)
    result = cli(
        "debt", "record", "-t", tenant, "--id", "d1", "--person", "ana",
        "--kind", "charge", "--amount", "1.00",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "program_not_configured" in result.output
