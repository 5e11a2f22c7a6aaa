"""``rewardledger account list``, ``transfer list``, ``budget reservations``, ``budget
corrections`` and ``budget alerts`` page by ``--cursor`` on SQLite and PostgreSQL: every row
once, in order, and a cursor the list did not give is a validation error (exit 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.helpers import Cli


def _ok(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def _all(cli: Cli, rows: str, field: str, *args: str) -> list[Any]:
    seen: list[Any] = []
    cursor: list[str] = []
    while True:
        page = _ok(cli, *args, "--limit", "2", *cursor)
        seen.extend(row[field] for row in page[rows])
        if page["next_cursor"] is None:
            return seen
        cursor = ["--cursor", page["next_cursor"]]


@pytest.fixture
def funded(cli: Cli, tenant: str) -> str:
    assert cli("tenant", "create", tenant).exit_code == 0
    _ok(cli, "budget", "create", "spring", "-t", tenant, "--currency", "USD",
        "--hard-cap", "100.00")  # fmt: skip
    topup = _ok(cli, "budget", "topup", "spring", "100.00", "-t", tenant, "--currency", "USD",
                "--key", "seed")  # fmt: skip
    for ref in ("c", "a", "b"):
        _ok(cli, "budget", "reserve", "spring", ref, "30.00", "-t", tenant, "--currency", "USD")
    for i in range(3):
        _ok(cli, "budget", "correct", "spring", "-t", tenant, "--reverses",
            topup["transfer_id"], "--note", f"n{i}", "--key", f"k{i}",
            "--amount", "0.01")  # fmt: skip
    return tenant


def test_each_list_pages_through_every_row_once(cli: Cli, funded: str) -> None:
    t = funded
    accounts = _all(cli, "accounts", "id", "account", "list", "-t", t)
    assert accounts == sorted(accounts)
    assert len(accounts) == len(set(accounts)) >= 3
    transfers = _all(cli, "transfers", "created_at", "transfer", "list", "-t", t)
    assert transfers == sorted(transfers, reverse=True)
    assert len(transfers) >= 7
    refs = _all(cli, "reservations", "reference", "budget", "reservations", "spring", "-t", t)
    assert refs == ["a", "b", "c"]
    notes = _all(cli, "corrections", "note", "budget", "corrections", "spring", "-t", t)
    assert notes == ["n0", "n1", "n2"]
    kinds = _all(cli, "alerts", "kind", "budget", "alerts", "-t", t)
    assert len(kinds) == len(_ok(cli, "budget", "alerts", "-t", t, "--limit", "500")["alerts"])
    assert kinds


def test_a_cursor_the_list_did_not_give_exits_2(cli: Cli, funded: str) -> None:
    result = cli("transfer", "list", "-t", funded, "--cursor", "bm9wZQ")
    assert result.exit_code == 2, result.output
    assert "cursor" in result.output
