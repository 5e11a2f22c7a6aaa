"""The append-only tables refuse to be rewritten by plain SQL, including by a replace or an
upsert onto an existing key (migration 0005)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rewardledger.ledger.engine import Ledger
from rewardledger.storage import schema
from tests.builders import fund, programme
from tests.conftest import owner_engine

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _rows(tenant_id: str) -> dict[str, dict[str, object]]:
    """One row per append-only table besides the journal, every NOT NULL column set."""
    return {
        "budget_corrections": {
            "tenant_id": tenant_id,
            "transfer_id": "corr-1",
            "budget_id": "b1",
            "period": "2026-01",
            "reverses_id": "tr-1",
            "amount_minor": 5,
            "note": "n",
            "actor": "a",
            "created_at": NOW,
        },
        "points_lot_moves": {
            "tenant_id": tenant_id,
            "movement_id": "mv-1",
            "lot_id": "lot-1",
            "amount_minor": -5,
            "created_at": NOW,
        },
        "cashback_movements": {
            "tenant_id": tenant_id,
            "movement_id": "cb-1",
            "account_id": "card-1",
            "cycle_tag": "2026-01",
            "kind": "accrual",
            "spend_minor": 100,
            "requested_minor": 5,
            "cashback_minor": 5,
            "override": False,
            "occurred_at": NOW,
            "recorded_at": NOW,
        },
        "debt_movements": {
            "tenant_id": tenant_id,
            "movement_id": "db-1",
            "person_id": "ana",
            "cycle_tag": "2026-01",
            "kind": "new_debt",
            "amount_minor": 100,
            "occurred_at": NOW,
            "recorded_at": NOW,
        },
        "budget_fixes": {
            "tenant_id": tenant_id,
            "budget_id": "b1",
            "fix_key": "fix-1",
            "period": "2026-01",
            "figure": "used",
            "before_minor": 7,
            "after_minor": 5,
            "note": "n",
            "actor": "a",
            "created_at": NOW,
        },
    }


def _changed_column(row: dict[str, object]) -> str:
    return next(c for c in ("amount_minor", "spend_minor", "after_minor") if c in row)


def _insert(ledger: Ledger, table: str, row: dict[str, object], prefix: str = "") -> None:
    names = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    with owner_engine(ledger).begin() as connection:
        connection.execute(text(f"INSERT {prefix}INTO {table} ({names}) VALUES ({values})"), row)


def _scalar(ledger: Ledger, statement: str, **params: object) -> object:
    with owner_engine(ledger).connect() as connection:
        return connection.execute(text(statement), params).scalar_one()


def _replace_amount(ledger: Ledger, tenant_id: str, transfer_id: str, how: str) -> None:
    """Write the journal row ``transfer_id`` again with amount 1001, by ``how``."""
    names = [c.name for c in schema.transfers.columns]
    chosen = ", ".join("1001" if n == "amount_minor" else n for n in names)
    select = f"SELECT {chosen} FROM transfers WHERE tenant_id = :t AND transfer_id = :id"
    if how == "replace":
        statement = f"INSERT OR REPLACE INTO transfers ({', '.join(names)}) {select}"
    else:
        statement = (
            f"INSERT INTO transfers ({', '.join(names)}) {select} "
            "ON CONFLICT (tenant_id, transfer_id) DO UPDATE SET amount_minor = 1001"
        )
    with owner_engine(ledger).begin() as connection:
        connection.execute(text(statement), {"t": tenant_id, "id": transfer_id})


@pytest.mark.parametrize("how", ["replace", "upsert"])
def test_a_journal_row_cannot_be_replaced_or_upserted(
    ledger: Ledger, tenant_id: str, engine_name: str, how: str
) -> None:
    if how == "replace" and engine_name != "sqlite":
        pytest.skip("REPLACE is SQLite's; PostgreSQL's equivalent is the upsert")
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "0.01")
    transfer_id = str(
        _scalar(ledger, "SELECT transfer_id FROM transfers WHERE tenant_id = :t", t=tenant_id)
    )
    with pytest.raises(DBAPIError, match="append-only"):
        _replace_amount(ledger, tenant_id, transfer_id, how)
    amount = _scalar(
        ledger,
        "SELECT amount_minor FROM transfers WHERE tenant_id = :t AND transfer_id = :id",
        t=tenant_id,
        id=transfer_id,
    )
    assert amount == 1


@pytest.mark.parametrize(
    "table",
    [
        "budget_corrections",
        "points_lot_moves",
        "cashback_movements",
        "debt_movements",
        "budget_fixes",
    ],
)
def test_movement_rows_cannot_be_replaced(
    ledger: Ledger, tenant_id: str, engine_name: str, table: str
) -> None:
    row = _rows(tenant_id)[table]
    _insert(ledger, table, row)
    column = _changed_column(row)
    changed = {**row, column: 999}
    prefix = "OR REPLACE " if engine_name == "sqlite" else ""
    with pytest.raises(DBAPIError, match=r"append-only|duplicate key"):
        _insert(ledger, table, changed, prefix)
    count = _scalar(ledger, f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=tenant_id)
    assert count == 1
    stored = _scalar(ledger, f"SELECT {column} FROM {table} WHERE tenant_id = :t", t=tenant_id)
    assert stored == row[column]


def test_a_replace_cannot_take_another_rows_entry_sequence(ledger: Ledger, tenant_id: str) -> None:
    """REPLACE deletes every row in its way, also one that holds another unique key."""
    if ledger.store.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("REPLACE is SQLite's")
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "0.01")
    names = [c.name for c in schema.transfers.columns]
    chosen = ", ".join("'other-id'" if n == "transfer_id" else n for n in names)
    engine = owner_engine(ledger)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT OR REPLACE INTO transfers ({', '.join(names)}) "
                f"SELECT {chosen} FROM transfers WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        )
    assert _scalar(ledger, "SELECT count(*) FROM transfers WHERE tenant_id = :t", t=tenant_id) == 1
