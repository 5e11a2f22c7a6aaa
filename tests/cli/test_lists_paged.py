"""``points assets``, ``points reasons``, ``points expiring``, ``points validate``, ``points
summary``, ``jobs failures`` and ``budget report`` page by ``--limit``/``--cursor`` as the other
lists do, on SQLite and PostgreSQL: every row once, in order, and a cursor the list did not
give is a validation error (exit 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rewardledger.domain.points import ExpiryKind, ExpiryPolicy
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, jobs, points
from tests.builders import FakeClock
from tests.cli.helpers import Cli, run_sql


def _page(cli: Cli, *args: str, exit_code: int = 0) -> dict[str, Any]:
    result = cli(*args)
    assert result.exit_code == exit_code, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def _all(cli: Cli, rows: str, field: str, *args: str, exit_code: int = 0) -> list[Any]:
    seen: list[Any] = []
    cursor: list[str] = []
    while True:
        page = _page(cli, *args, "--limit", "2", *cursor, exit_code=exit_code)
        assert len(page[rows]) <= 2
        seen.extend(row[field] for row in page[rows])
        if page["next_cursor"] is None:
            return seen
        cursor = ["--cursor", page["next_cursor"]]


@pytest.fixture
def lumis(ledger: Ledger, tenant_id: str, clock: FakeClock) -> str:
    points.configure(ledger, tenant_id, expiry=ExpiryPolicy(ExpiryKind.AFTER, days=30))
    for i in range(5):
        clock.advance(hours=1)
        points.earn(ledger, tenant_id, f"m{i}", "10", dtype="invoice", reference=f"a{i}")
        points.earn(ledger, tenant_id, "m0", str(i + 1), dtype="invoice", reference=f"b{i}")
    return tenant_id


def test_the_points_lists_page_through_every_row_once(
    cli: Cli, ledger: Ledger, lumis: str, db_url: str
) -> None:
    t = lumis
    for code in ("STARS", "BEANS"):
        points.configure(ledger, t, code)
    assert _all(cli, "assets", "asset", "points", "assets", "-t", t) == ["BEANS", "LUMIS", "STARS"]
    reasons = [(r.direction.value, r.code) for r in points.reasons(ledger, t)]
    dtypes = _all(cli, "reasons", "dtype", "points", "reasons", "-t", t)
    assert dtypes == [code for _, code in reasons]
    spends = _all(cli, "reasons", "dtype", "points", "reasons", "-t", t, "--direction", "spend")
    assert spends == [code for side, code in reasons if side == "spend"]
    forecast = _all(cli, "expiring", "amount", "points", "expiring", "m0", "-t", t)
    assert forecast == ["11", "2", "3", "4", "5"]  # a0 and b0 expire at one time
    holders = _all(cli, "holders", "user_id", "points", "summary", "-t", t)
    assert holders == [f"m{i}" for i in range(5)]
    assert _all(cli, "holders", "user_id", "points", "validate", "-t", t) == []
    damaged = run_sql(
        db_url,
        "UPDATE accounts SET credits_posted = credits_posted + 3 WHERE tenant_id = :t "
        "AND account_id IN ('pts:LUMIS:m1', 'pts:LUMIS:m3', 'pts:LUMIS:m4')",
        t=t,
    )
    assert damaged == 3
    bad = _all(cli, "holders", "user_id", "points", "validate", "-t", t, exit_code=1)
    assert bad == ["m1", "m3", "m4"]
    fine = _all(cli, "holders", "user_id", "points", "validate", "-t", t, "--status", "OK")
    assert fine == ["m0", "m2"]


def test_job_failures_and_budget_reports_page_through_every_row_once(
    cli: Cli, ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    t = tenant_id
    store = ledger.extension(jobs.STORE)
    for step in ("holds", "budgets", "points"):
        clock.advance(seconds=1)
        ledger.run(
            t, lambda work, step=step: store.record_failure(work.unit, step, "x", "boom", work.now)
        )
    steps = _all(cli, "failures", "step", "jobs", "failures", "-t", t)
    assert steps == ["points", "budgets", "holds"]
    assert _all(cli, "failures", "step", "jobs", "failures", "-t", t, "--step", "budgets") == [
        "budgets"
    ]
    for bid in ("c", "a", "b"):
        budgets.create_budget(ledger, t, bid, currency="USD", hard_cap="10.00")
    assert _all(cli, "reports", "budget_id", "budget", "report", "-t", t) == ["a", "b", "c"]
    csv = cli("budget", "report", "-t", t, "--format", "csv", "--limit", "2")
    assert csv.exit_code == 0, csv.output
    assert [line.split(",")[0] for line in csv.stdout.splitlines()[1:]] == ["a", "b"]
    assert "--cursor" in csv.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("points", "assets"),
        ("points", "reasons"),
        ("points", "expiring", "m0"),
        ("points", "validate"),
        ("jobs", "failures"),
        ("budget", "report"),
    ],
)
def test_a_cursor_the_list_did_not_give_exits_2(cli: Cli, lumis: str, args: tuple[str]) -> None:
    result = cli(*args, "-t", lumis, "--cursor", "bm9wZQ")
    assert result.exit_code == 2, result.output
    assert "cursor" in result.output
