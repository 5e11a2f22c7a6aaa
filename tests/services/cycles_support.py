"""Builders for the cycle tests: a tenant with USD, a cashback and a debt programme."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert

from rewardledger.domain.cycles import CashbackRow, DebtRow
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles, debt
from rewardledger.storage.schema_cycles import cycle_dirty, debt_movements
from tests.builders import new_id
from tests.conftest import owner_engine


def programmes(
    ledger: Ledger,
    tenant_id: str,
    *,
    mode: str = "inline",
    minimum_spend: str = "100.00",
    default_cap: str = "50.00",
    grace_days: int = 0,
    closing_day: int = 31,
    due_day: int = 15,
    debt_grace_days: int = 0,
) -> None:
    ledger.create_asset(tenant_id, "USD", scale=2)
    cashback.set_program(
        ledger,
        tenant_id,
        currency="USD",
        minimum_spend=minimum_spend,
        default_cap=default_cap,
        grace_days=grace_days,
    )
    debt.set_program(
        ledger,
        tenant_id,
        currency="USD",
        closing_day=closing_day,
        due_day=due_day,
        grace_days=debt_grace_days,
    )
    cycles.set_refresh_mode(ledger, tenant_id, mode)


def accrue(
    ledger: Ledger,
    tenant_id: str,
    account: str,
    spend: str,
    amount: str,
    *,
    at: datetime | None = None,
    cap: str | None = None,
    override: bool = False,
    movement_id: str | None = None,
    tag: str | None = None,
) -> cashback.MovementResult:
    return cashback.accrue(
        ledger,
        tenant_id,
        cashback.Accrual(
            movement_id or new_id("cb"),
            account,
            spend,
            amount,
            occurred_at=at,
            cycle_tag=tag,
            budget_cap=cap,
            override=override,
        ),
    )


def owe(
    ledger: Ledger,
    tenant_id: str,
    person: str,
    kind: str,
    amount: str,
    *,
    tag: str | None = None,
    at: datetime | None = None,
    due_at: datetime | None = None,
) -> debt.DebtResult:
    return debt.record(
        ledger,
        tenant_id,
        debt.DebtRequest(
            new_id("debt"), person, kind, amount, cycle_tag=tag, occurred_at=at, due_at=due_at
        ),
    )


def cashback_row(ledger: Ledger, tenant_id: str, account: str, tag: str) -> CashbackRow:
    return cycles.get_cashback_row(ledger, tenant_id, account, tag)[0]


def debt_row(ledger: Ledger, tenant_id: str, person: str, tag: str) -> DebtRow:
    return cycles.get_debt_row(ledger, tenant_id, person, tag)[0]


def all_rows(ledger: Ledger, tenant_id: str) -> tuple[list[CashbackRow], list[DebtRow]]:
    """Every row of both ledgers, in key order (without ``last_updated``)."""
    from rewardledger.domain.cycles import LedgerFilter

    found_cashback: list[CashbackRow] = []
    found_debt: list[DebtRow] = []
    cursor: str | None = None
    while True:
        page = cycles.list_cashback_ledger(ledger, tenant_id, LedgerFilter(), cursor=cursor)
        found_cashback += [row for row, _ in page.rows]
        if (cursor := page.next_cursor) is None:
            break
    while True:
        debt_page = cycles.list_debt_ledger(ledger, tenant_id, LedgerFilter(), cursor=cursor)
        found_debt += [row for row, _ in debt_page.rows]
        if (cursor := debt_page.next_cursor) is None:
            break
    return found_cashback, found_debt


def engine_of(ledger: Ledger) -> Engine:
    engine: Engine = owner_engine(ledger)
    return engine


def plant_an_uncomputable_cycle(ledger: Ledger, tenant_id: str, *, movement: bool = True) -> None:
    """What main stored before tags were checked, written behind the ledger's back: a debt
    movement of cycle 0000-01 (unless ``movement`` is False) and its dirty mark. A refresh of
    that pair fails in ``datetime`` (year 0)."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    legacy = {
        "tenant_id": tenant_id,
        "movement_id": "legacy-1",
        "person_id": "ana",
        "cycle_tag": "0000-01",
        "kind": "charge",
        "amount_minor": 100,
        "due_at": None,
        "transfer_id": None,
        "occurred_at": at,
        "recorded_at": at,
    }
    mark = {
        "tenant_id": tenant_id,
        "ledger": "debt",
        "holder_id": "ana",
        "cycle_tag": "0000-01",
        "token": secrets.token_hex(16),
    }
    with engine_of(ledger).begin() as connection:
        if movement:
            connection.execute(insert(debt_movements).values(**legacy))
        connection.execute(insert(cycle_dirty).values(**mark))


def clear_the_bad_mark(ledger: Ledger, tenant_id: str) -> None:
    """What an operator's repair leaves: the pair no longer marked for a refresh."""
    with engine_of(ledger).begin() as connection:
        connection.execute(delete(cycle_dirty).where(cycle_dirty.c.tenant_id == tenant_id))
