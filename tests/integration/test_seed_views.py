"""The seeds' SQL names (migration 0006_seed_views) give what the services and the HTTP API
give, on both engines; they refuse writes; ``validate_balance_integrity()`` lists what the
points integrity check lists (PostgreSQL)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from rewardledger.config import Settings
from rewardledger.domain.cycles import LedgerFilter
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason
from rewardledger.http.app import create_app
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cycles, jobs, points, redemptions
from rewardledger.services.access import issue_key
from rewardledger.storage.seed_views import (
    DEFAULT_SCHEMA,
    VIEW_NAMES,
    check_schema_name,
    derived_schema,
    view_name,
    views_schema,
)
from tests.builders import FakeClock
from tests.conftest import owner_engine
from tests.http.support import TestClient
from tests.services.cycles_support import accrue, owe, programmes


def _engine(ledger: Ledger) -> Engine:
    return owner_engine(ledger)


def _name(ledger: Ledger, view: str) -> str:
    engine = _engine(ledger)
    with engine.connect() as connection:
        schema = views_schema(connection) if engine.dialect.name == "postgresql" else ""
    return view_name(engine.dialect.name, schema, view)


def _plain(value: Any) -> Any:
    """A view's value as the API writes it: numeric (PostgreSQL) as its decimal string, an
    instant (SQLite stores UTC text) as an aware datetime, a SQLite 0/1 flag left to the caller."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _rows(ledger: Ledger, view: str, tenant_id: str, order: str) -> list[dict[str, Any]]:
    query = f"SELECT * FROM {_name(ledger, view)} WHERE tenant_id = :t ORDER BY {order}"
    with _engine(ledger).connect() as connection:
        found = connection.execute(text(query), {"t": tenant_id})
        return [{k: _plain(v) for k, v in row._mapping.items()} for row in found]


def _points_history(ledger: Ledger, tenant_id: str, clock: FakeClock) -> None:
    """Two holders: earns, a spend, an expiry, a clawback below zero, and three redemptions
    (pending, confirmed, cancelled with a refund)."""
    points.configure(
        ledger,
        tenant_id,
        expiry=ExpiryPolicy(ExpiryKind.AFTER, days=30),
        reasons=[Reason(Direction.SPEND, "clawback", allow_negative=True)],
    )
    points.earn(ledger, tenant_id, "42", "120", dtype="invoice", reference="inv-1")
    points.earn(ledger, tenant_id, "7", "15", dtype="streak", reference="streak-1")
    clock.advance(days=31)
    jobs.run_due_jobs(ledger, tenant_id)  # both lots expire
    points.earn(ledger, tenant_id, "42", "200", dtype="daily_game", reference="game-1")
    points.spend(ledger, tenant_id, "42", "30", dtype="ocr", reference="ocr-1")
    points.spend(ledger, tenant_id, "7", "5", dtype="clawback", reference="claw-1")
    made = redemptions.create(ledger, tenant_id, "42", offer_id="coffee", cost="40", reference="r1")
    redemptions.confirm(ledger, tenant_id, made.code, actor="till-3")
    redemptions.create(ledger, tenant_id, "42", offer_id="cake", cost="25", reference="r2")
    redemptions.cancel(ledger, tenant_id, "r2", actor="desk")
    redemptions.create(ledger, tenant_id, "42", offer_id="tea", cost="10", reference="r3")


def test_fact_accumulations_are_the_holders_rows_the_service_reads(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _points_history(ledger, tenant_id, clock)
    view = _rows(ledger, "fact_accumulations", tenant_id, "user_id, entry_seq DESC")
    expected = []
    for holder in ("42", "7"):
        for row in points.accumulations(ledger, tenant_id, holder).rows:
            expected.append(
                {
                    "user_id": row.user_id,
                    "accum_type": row.accum_type,
                    "dtype": row.dtype,
                    "quantity": str(row.quantity),
                    "balance": str(row.balance),
                    "date": row.date,
                    "redemption_id": row.redemption_id,
                    "id": row.id,
                    "negative_allowed": row.negative_allowed,
                    "entry_seq": row.seq,
                    "quantity_minor": row.quantity.minor,
                    "balance_minor": row.balance.minor,
                }
            )
    for row in view:
        row["negative_allowed"] = bool(row["negative_allowed"])
        assert (row.pop("tenant_id"), row.pop("asset")) == (tenant_id, "LUMIS")
    assert view == expected
    kinds = {(r["user_id"], r["accum_type"], r["dtype"], r["quantity"]) for r in view}
    assert {("42", "expire", "expiry", "-120"), ("7", "spend", "clawback", "-5")} <= kinds
    assert {("42", "earn", "refund", "25")} <= kinds


def test_fact_balance_points_and_v_ledger_summary_are_the_services_figures(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _points_history(ledger, tenant_id, clock)
    balances = _rows(ledger, "fact_balance_points", tenant_id, "user_id")
    expected_balances = []
    for holder in ("42", "7"):
        b = points.balance(ledger, tenant_id, holder)
        expected_balances.append(
            (holder, str(b.balance), b.latest_update, str(b.available), str(b.pending))
        )
    assert [
        (r["user_id"], r["balance"], r["latest_update"], r["available"], r["pending"])
        for r in balances
    ] == expected_balances
    assert [r["balance"] for r in balances] == ["120", "-5"]

    summary = _rows(ledger, "v_ledger_summary", tenant_id, "asset, user_id")
    expected = [
        {
            "user_id": line.user_id,
            "asset": line.asset,
            "earned": str(line.earned),
            "spent": str(line.spent),
            "expired": str(line.expired),
            "balance": str(line.balance),
            "ledger_balance": str(line.ledger_balance),
            "lots_balance": str(line.lots_balance),
            "rows": line.rows,
            "integrity_status": line.integrity_status,
        }
        for line in points.summary(ledger, tenant_id)
    ]
    assert [{k: r[k] for k in expected[0]} for r in summary] == expected
    assert {r["integrity_status"] for r in summary} == {"OK"}


def _tamper(ledger: Ledger, tenant_id: str, holder: str) -> None:
    """Change a holder's materialized balance behind the ledger's back (what repair fixes)."""
    with _engine(ledger).begin() as connection:
        connection.execute(
            text(
                "UPDATE accounts SET credits_posted = credits_posted + 5 "
                "WHERE tenant_id = :t AND account_id = :a"
            ),
            {"t": tenant_id, "a": f"pts:LUMIS:{holder}"},
        )


def test_a_tampered_balance_is_a_mismatch_in_the_view_as_in_the_service(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _points_history(ledger, tenant_id, clock)
    _tamper(ledger, tenant_id, "7")
    summary = _rows(ledger, "v_ledger_summary", tenant_id, "user_id")
    assert [(r["user_id"], r["integrity_status"]) for r in summary] == [
        ("42", "OK"),
        ("7", "MISMATCH"),
    ]
    [line] = points.validate(ledger, tenant_id)
    mismatched = summary[1]
    assert (line.user_id, str(line.balance), str(line.ledger_balance)) == (
        mismatched["user_id"],
        mismatched["balance"],
        mismatched["ledger_balance"],
    )
    assert (mismatched["balance"], mismatched["ledger_balance"]) == ("0", "-5")


def test_validate_balance_integrity_lists_what_the_service_lists(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    if _engine(ledger).dialect.name != "postgresql":
        pytest.skip("SQLite has no SQL functions: use the rewards_v_ledger_summary view")
    _points_history(ledger, tenant_id, clock)
    function = f"{_name(ledger, 'validate_balance_integrity')}()"
    query = f"SELECT * FROM {function} WHERE tenant_id = :t"
    with _engine(ledger).connect() as connection:
        assert connection.execute(text(query), {"t": tenant_id}).all() == []
    _tamper(ledger, tenant_id, "42")
    with _engine(ledger).connect() as connection:
        found = [dict(r._mapping) for r in connection.execute(text(query), {"t": tenant_id})]
    expected = [
        {
            "user_id": line.user_id,
            "asset": line.asset,
            "balance": Decimal(str(line.balance)),
            "ledger_balance": Decimal(str(line.ledger_balance)),
            "lots_balance": Decimal(str(line.lots_balance)),
            "difference": Decimal(str(line.balance)) - Decimal(str(line.ledger_balance)),
            "integrity_status": "MISMATCH",
            "tenant_id": tenant_id,
        }
        for line in points.validate(ledger, tenant_id)
    ]
    assert found == expected
    assert found[0]["difference"] == 5


def test_user_redemptions_are_the_redemptions_the_service_returns(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    _points_history(ledger, tenant_id, clock)
    view = _rows(ledger, "user_redemptions", tenant_id, "redemption_id")
    expected = []
    for reference in ("r1", "r2", "r3"):
        r = redemptions.get(ledger, tenant_id, reference)
        expected.append(
            {
                "redemption_id": r.redemption_id,
                "code": r.code,
                "user_id": r.holder_id,
                "asset": r.asset,
                "offer_id": r.offer_id,
                "cost": str(r.cost),
                "state": r.state.value,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
                "resolved_at": r.resolved_at,
                "resolved_by": r.resolved_by,
                "refunded": str(r.refunded),
                "forfeited": str(r.forfeited),
            }
        )
    assert [{k: row[k] for k in expected[0]} for row in view] == expected
    assert [(r["state"], r["refunded"]) for r in view] == [
        ("confirmed", "0"),
        ("cancelled", "25"),
        ("pending", "0"),
    ]


@pytest.fixture
def reader(ledger: Ledger, tenant_id: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = issue_key(ledger, tenant_id, "reader").key
    with TestClient(create_app(ledger, Settings())) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def _cycle_history(ledger: Ledger, tenant_id: str) -> None:
    """USD cycles: a cycle at its cap, one past it by an override (negative remaining budget),
    one below the minimum spend; an open debt, a repaid one and an overpayment."""
    programmes(ledger, tenant_id, minimum_spend="100.00", default_cap="10.00")
    march = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    accrue(ledger, tenant_id, "card-1", "300.00", "12.00", at=march)
    accrue(ledger, tenant_id, "card-2", "150.00", "9.95", at=march)
    accrue(ledger, tenant_id, "card-2", "50.00", "5.05", at=march, override=True)
    accrue(ledger, tenant_id, "card-3", "20.00", "0.05", at=march)
    owe(ledger, tenant_id, "ana", "opening", "50.00", at=march)
    owe(ledger, tenant_id, "ana", "repayment", "20.50", at=march)
    owe(ledger, tenant_id, "ben", "charge", "10.00", at=march)
    owe(ledger, tenant_id, "ben", "repayment", "10.00", at=march)
    owe(ledger, tenant_id, "cy", "charge", "5.00", at=march)
    owe(ledger, tenant_id, "cy", "repayment", "7.25", at=march)


def _csv(client: TestClient, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    response = client.get(path, params={"format": "csv"}, headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(response.text)))
    for row in rows:
        row["last_updated"] = datetime.fromisoformat(row["last_updated"])
        row["notes"] = row["notes"] or None
        if "due_at" in row:
            row["due_at"] = datetime.fromisoformat(row["due_at"])
    return rows


@pytest.mark.parametrize(
    ("view", "path", "key"),
    [("cashback_ledger", "cashback", "account_id"), ("debt_ledger", "debt", "person_id")],
)
def test_the_cycle_ledger_views_are_the_csv_exports_rows(
    ledger: Ledger,
    tenant_id: str,
    reader: tuple[TestClient, dict[str, str]],
    view: str,
    path: str,
    key: str,
) -> None:
    _cycle_history(ledger, tenant_id)
    client, headers = reader
    exported = _csv(client, headers, f"/v1/tenants/{tenant_id}/{path}/ledger")
    rows = _rows(ledger, view, tenant_id, f"{key}, cycle_tag")
    assert [{k: r[k] for k in exported[0]} for r in rows] == exported
    assert len(rows) == 3
    assert {r["currency"] for r in rows} == {"USD"}
    if view == "cashback_ledger":
        assert [(r["eligibility"], r["remaining_budget"]) for r in rows] == [
            ("reached_cap", "0.00"),
            ("reached_cap", "-5.00"),
            ("pending", "9.95"),  # below the minimum spend, cycle still open
        ]
        assert [r["remaining_budget_minor"] for r in rows] == [0, -500, 995]
    else:
        assert [(r["status"], r["net_debt"]) for r in rows] == [
            ("partial", "29.50"),
            ("repaid", "0.00"),
            ("repaid", "-2.25"),
        ]


def test_the_views_read_every_cycle_row_the_service_lists(ledger: Ledger, tenant_id: str) -> None:
    _cycle_history(ledger, tenant_id)
    page = cycles.list_cashback_ledger(ledger, tenant_id, LedgerFilter())
    listed = [(row.account_id, row.cycle_tag, row.total_cashback_minor) for row, _ in page.rows]
    rows = _rows(ledger, "cashback_ledger", tenant_id, "account_id, cycle_tag")
    assert [(r["account_id"], r["cycle_tag"], r["total_cashback_minor"]) for r in rows] == listed


# The test tenant's rows only: a statement over the whole view would first compute the view
# over every tenant of the session's database (each row goes to the refusing trigger).
WRITES = {
    "INSERT": "INSERT INTO {view} (user_id) VALUES ('x')",
    "UPDATE": "UPDATE {view} SET tenant_id = 'x' WHERE tenant_id = '{tenant}'",
    "DELETE": "DELETE FROM {view} WHERE tenant_id = '{tenant}'",
}


@pytest.mark.parametrize("statement", sorted(WRITES))
@pytest.mark.parametrize("view", VIEW_NAMES)
def test_every_view_refuses_writes_and_says_where_to_write(
    ledger: Ledger, tenant_id: str, clock: FakeClock, view: str, statement: str
) -> None:
    _points_history(ledger, tenant_id, clock)
    _cycle_history(ledger, tenant_id)
    name = _name(ledger, view)
    sql = WRITES[statement].format(view=name, tenant=tenant_id)
    if view in ("cashback_ledger", "debt_ledger") and statement == "INSERT":
        sql = sql.replace("(user_id)", "(cycle_tag)")
    before = _rows(ledger, view, tenant_id, "tenant_id")
    assert before  # the refused statement would have had rows to change
    with pytest.raises(DBAPIError) as refused, _engine(ledger).begin() as connection:
        connection.execute(text(sql))
    message = str(refused.value.orig)
    assert f"{name} is a read-only view" in message
    assert f"{statement} refused" in message
    assert "write through the HTTP API, the CLI or the Python services" in message
    assert _rows(ledger, view, tenant_id, "tenant_id") == before


def test_the_views_schema_is_rewards_beside_public_tables_and_derived_elsewhere() -> None:
    assert derived_schema("public") == DEFAULT_SCHEMA == "rewards"
    assert derived_schema("rl_test_1_ab") == "rl_test_1_ab_rewards"
    with pytest.raises(ValidationError, match="REWARDLEDGER_SQL_SCHEMA 'Bad-Name'"):
        check_schema_name("Bad-Name")
    assert check_schema_name("reports_2") == "reports_2"


def test_the_setting_names_the_views_schema(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REWARDLEDGER_SQL_SCHEMA", "loyalty_reports")
    with _engine(ledger).connect() as connection:
        assert views_schema(connection) == "loyalty_reports"
    monkeypatch.setenv("REWARDLEDGER_SQL_SCHEMA", "Bad-Name")
    with _engine(ledger).connect() as connection, pytest.raises(ValidationError):
        views_schema(connection)


def test_on_postgresql_the_views_live_in_the_derived_schema_as_security_invoker(
    ledger: Ledger,
) -> None:
    engine = _engine(ledger)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no schemas: the views are named rewards_<name>")
    with engine.connect() as connection:
        tables_schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        schema = views_schema(connection)
        options = dict(
            connection.execute(
                text(
                    "SELECT c.relname, c.reloptions FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind = 'v'"
                ),
                {"s": schema},
            ).all()
        )
    assert schema == f"{tables_schema}_rewards"
    assert set(options) == set(VIEW_NAMES)
    assert all(value == ["security_invoker=true"] for value in options.values()), options


def test_on_sqlite_the_views_are_named_with_the_rewards_prefix(ledger: Ledger) -> None:
    engine = _engine(ledger)
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has schemas: the views live in one")
    with engine.connect() as connection:
        views = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        ).scalars()
        assert sorted(views) == sorted(f"rewards_{name}" for name in VIEW_NAMES)
