"""``rewardledger points ...`` and ``rewardledger redemption ...`` (issue 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardledger.cli.points import _rows_in
from tests.cli.helpers import Cli


@pytest.fixture
def wallet(cli: Cli, tenant: str) -> str:
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("points", "configure", "-t", tenant, "--expire-after-days", "30")
    assert result.exit_code == 0, result.output
    return tenant


def _json(cli: Cli, *args: str) -> dict:  # type: ignore[type-arg]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_earn_spend_and_balance_from_the_command_line(cli: Cli, wallet: str) -> None:
    _json(cli, "points", "earn", "-t", wallet, "u1", "100", "--dtype", "invoice", "-r", "e1")
    spent = _json(cli, "points", "spend", "-t", wallet, "u1", "30", "--dtype", "ocr", "-r", "s1")
    assert spent["lots"] == [{"lot_id": "e1", "amount": "30"}]
    assert _json(cli, "points", "balance", "-t", wallet, "u1")["balance"] == "70"
    rows = _json(cli, "points", "accumulations", "-t", wallet, "u1")["accumulations"]
    assert [(r["accum_type"], r["quantity"], r["balance"]) for r in rows] == [
        ("spend", "-30", "70"),
        ("earn", "100", "100"),
    ]
    assert len(_json(cli, "points", "expiring", "-t", wallet, "u1")["expiring"]) == 1


def test_overdraft_exits_1_with_the_error_code(cli: Cli, wallet: str) -> None:
    result = cli("points", "spend", "-t", wallet, "u1", "1", "--dtype", "ocr", "-r", "s1")
    assert result.exit_code == 1
    assert "insufficient_points" in result.stderr


def test_redemption_round_trip_and_qr_file(cli: Cli, wallet: str, tmp_path: Path) -> None:
    _json(cli, "points", "earn", "-t", wallet, "u1", "100", "--dtype", "invoice", "-r", "e1")
    made = _json(
        cli,
        "redemption",
        "create",
        "-t",
        wallet,
        "u1",
        "--offer-id",
        "coffee",
        "--cost",
        "40",
        "-r",
        "r1",
    )
    image = tmp_path / "code.svg"
    _json(cli, "redemption", "qr", "-t", wallet, "r1", "--out", str(image))
    assert b"<svg" in image.read_bytes()
    assert _json(cli, "redemption", "confirm", "-t", wallet, made["code"])["state"] == "confirmed"
    again = cli("redemption", "confirm", "-t", wallet, made["code"])
    assert again.exit_code == 1
    assert "already_redeemed" in again.stderr


def test_import_reports_bad_lines_and_a_second_run_imports_nothing(
    cli: Cli, wallet: str, tmp_path: Path
) -> None:
    history = tmp_path / "history.csv"
    history.write_text(
        "user,accum_type,dtype,quantity,date,redemption_id\n"
        "7,earn,invoice,100,2025-12-01T10:00:00+00:00,\n"
        "7,spend,points,-40,2025-12-02T10:00:00+00:00,\n",
        encoding="utf-8",
    )
    first = _json(cli, "points", "import", "-t", wallet, str(history))
    assert (first["imported"], first["bad_rows"]) == (2, 0)
    second = _json(cli, "points", "import", "-t", wallet, str(history))
    assert (second["imported"], second["already_present"]) == (0, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "user,accum_type,dtype,quantity,date,redemption_id\n7,earn,invoice,x,2025-12-01,\n",
        encoding="utf-8",
    )
    result = cli("points", "import", "-t", wallet, str(bad))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["bad"][0]["line"] == 2
    assert _json(cli, "points", "balance", "-t", wallet, "7")["balance"] == "60"
    assert _json(cli, "points", "validate", "-t", wallet)["holders"] == []


def test_the_import_progress_total_counts_the_rows_of_csv_and_json_lines(tmp_path: Path) -> None:
    csv_file = tmp_path / "history.csv"
    csv_file.write_text("user,accum_type\n7,earn\n\n8,earn\n", encoding="utf-8")
    lines = tmp_path / "history.jsonl"
    lines.write_text('{"user": "7"}\n{"user": "8"}\n{"user": "9"}\n', encoding="utf-8")
    assert (_rows_in(csv_file), _rows_in(lines)) == (2, 3)


def test_configure_again_changes_nothing_and_set_expiry_changes_it(cli: Cli, wallet: str) -> None:
    again = _json(cli, "points", "configure", "-t", wallet)
    assert again["expiry"]["days"] == 30
    other = cli("points", "configure", "-t", wallet, "--never-expire")
    assert other.exit_code == 1
    assert "rewardledger points set-expiry" in other.output
    changed = _json(cli, "points", "set-expiry", "-t", wallet, "--never-expire")
    assert changed["expiry"]["kind"] == "none"
    assets = _json(cli, "points", "assets", "-t", wallet)["assets"]
    assert [a["asset"] for a in assets] == ["LUMIS"]
    reasons = _json(cli, "points", "reasons", "-t", wallet)["reasons"]
    assert "invoice" in [r["dtype"] for r in reasons]
