"""A rebuild computed in sets (one statement per batch on PostgreSQL) writes exactly the rows
and the events that the row-by-row rebuild (``cashback_row`` / ``debt_row``, the reference)
writes for the same generated history, in the same order; and a rebuild with nothing changed
writes no row and no event. Histories cover caps, overrides, reversals, enrolment, openings,
explicit due dates, batches cut anywhere, and zones whose midnight moves (DST at 00:00)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from rewardledger.domain.cycles import LedgerName, row_id
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles, debt
from tests.builders import FakeClock
from tests.conftest import owner_engine

ACCOUNTS = ("card-0", "card-1", "card-2")
PEOPLE = ("ana", "bob", "cy")
TAGS = ("2025-10", "2025-11", "2026-02", "2026-03", "2026-04", "2026-10")
ZONES = ("America/Panama", "Europe/London", "America/Havana", "Australia/Lord_Howe")
KINDS = ("opening", "charge", "repayment", "discount")
START = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Spend:
    account: int
    tag: str
    spend_minor: int
    cashback_minor: int
    cap_minor: int | None
    override: bool
    hour: int


@dataclass(frozen=True)
class Owing:
    person: int
    tag: str
    kind: str
    amount_minor: int
    due_in_days: int | None


@dataclass(frozen=True)
class History:
    zone: str
    minimum_spend_minor: int
    default_cap_minor: int
    grace_days: int
    due_day: int
    debt_grace_days: int
    accounts: tuple[tuple[int | None, bool] | None, ...]
    first: tuple[Spend | Owing, ...]
    then: tuple[Spend | Owing, ...]
    days_between: int
    batch_size: int


spends = st.builds(
    Spend,
    st.integers(0, len(ACCOUNTS) - 1),
    st.sampled_from(TAGS),
    st.integers(-3_000, 20_000),
    st.integers(-900, 3_000),
    st.one_of(st.none(), st.integers(0, 5_000)),
    st.booleans(),
    st.integers(0, 3),  # few instants: caps snapshots tie on occurrence, then on id
)
owings = st.builds(
    Owing,
    st.integers(0, len(PEOPLE) - 1),
    st.sampled_from(TAGS),
    st.sampled_from(KINDS),
    st.integers(1, 10_000),
    st.one_of(st.none(), st.integers(-60, 60)),
)
movements = st.lists(st.one_of(spends, owings), max_size=30).map(tuple)
histories = st.builds(
    History,
    st.sampled_from(ZONES),
    st.integers(0, 10_000),
    st.integers(0, 6_000),
    st.integers(0, 40),
    st.integers(1, 31),
    st.integers(0, 10),
    st.tuples(
        *[
            st.one_of(
                st.none(), st.tuples(st.one_of(st.none(), st.integers(0, 4_000)), st.booleans())
            )
            for _ in ACCOUNTS
        ]
    ),
    movements,
    movements,
    st.integers(0, 240),
    st.integers(1, 5),
)


def _tenant(ledger: Ledger, history: History) -> str:
    tenant_id = f"s{secrets.token_hex(6)}"
    ledger.create_tenant(tenant_id, timezone=history.zone)
    ledger.create_asset(tenant_id, "USD", scale=2)
    cashback.set_program(
        ledger, tenant_id, currency="USD", minimum_spend=_cents(history.minimum_spend_minor),
        default_cap=_cents(history.default_cap_minor), grace_days=history.grace_days,
    )  # fmt: skip
    debt.set_program(
        ledger, tenant_id, currency="USD", closing_day=31, due_day=history.due_day,
        grace_days=history.debt_grace_days,
    )  # fmt: skip
    cycles.set_refresh_mode(ledger, tenant_id, "job")
    for account, chosen in zip(ACCOUNTS, history.accounts, strict=True):
        if chosen is not None:
            cap, enrolled = chosen
            cap_text = None if cap is None else _cents(cap)
            cashback.set_account(
                ledger, tenant_id, account, default_cap=cap_text, enrolled=enrolled
            )
    return tenant_id


def _cents(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _write(
    connection: Connection, tenant_id: str, part: str, moves: tuple[Spend | Owing, ...]
) -> None:
    for n, move in enumerate(moves):
        if isinstance(move, Spend):
            at = START + timedelta(hours=move.hour)
            connection.execute(
                text(
                    "INSERT INTO cashback_movements (tenant_id, movement_id, account_id, "
                    "cycle_tag, kind, spend_minor, requested_minor, cashback_minor, "
                    "budget_cap_minor, override, reverses_id, transfer_id, occurred_at, "
                    "recorded_at) VALUES (:t, :id, :a, :tag, :kind, :s, :c, :c, :cap, :o, NULL, "
                    "NULL, :at, :at)"
                ),
                {"t": tenant_id, "id": f"{part}{n}", "a": ACCOUNTS[move.account], "tag": move.tag,
                 "kind": "accrual" if move.cashback_minor >= 0 else "reversal",
                 "s": move.spend_minor, "c": move.cashback_minor, "cap": move.cap_minor,
                 "o": move.override, "at": at},
            )  # fmt: skip
        else:
            due = None if move.due_in_days is None else START + timedelta(days=move.due_in_days)
            connection.execute(
                text(
                    "INSERT INTO debt_movements (tenant_id, movement_id, person_id, cycle_tag, "
                    "kind, amount_minor, due_at, transfer_id, occurred_at, recorded_at) VALUES "
                    "(:t, :id, :p, :tag, :k, :amt, :due, NULL, :at, :at)"
                ),
                {"t": tenant_id, "id": f"{part}{n}", "p": PEOPLE[move.person], "tag": move.tag,
                 "k": move.kind, "amt": move.amount_minor, "due": due, "at": START},
            )  # fmt: skip


def _rows(connection: Connection, tenant_id: str) -> list[tuple[Any, ...]]:
    """Both ledgers' rows, key order, with each id checked against its key and left out."""
    found: list[tuple[Any, ...]] = []
    for table, name, ledger in (
        ("cashback_ledger", "account_id", LedgerName.CASHBACK),
        ("debt_ledger", "person_id", LedgerName.DEBT),
    ):
        rows = connection.execute(
            text(f"SELECT * FROM {table} WHERE tenant_id = :t ORDER BY {name}, cycle_tag"),
            {"t": tenant_id},
        ).mappings()
        for row in rows:
            values = dict(row)
            assert values.pop(f"{ledger}_ledger_id") == row_id(
                ledger, tenant_id, values[name], values["cycle_tag"]
            )
            del values["tenant_id"]
            found.append((table, *sorted(values.items())))
    return found


def _events(connection: Connection, tenant_id: str, after: int) -> list[tuple[Any, ...]]:
    rows = connection.execute(
        text(
            "SELECT event_id, event_type, subject_id, payload, created_at FROM outbox "
            "WHERE tenant_id = :t AND position > :after ORDER BY position"
        ),
        {"t": tenant_id, "after": after},
    ).all()
    assert all(uuid.UUID(row.event_id).version == 7 for row in rows)
    return [(row.event_type, row.subject_id, row.payload, row.created_at) for row in rows]


def _last_position(connection: Connection, tenant_id: str) -> int:
    value = connection.execute(
        text("SELECT max(position) FROM outbox WHERE tenant_id = :t"), {"t": tenant_id}
    ).scalar()
    return int(value or 0)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_a_rebuild_in_sets_writes_the_rows_and_events_of_the_row_by_row_rebuild(
    ledger: Ledger, clock: FakeClock, history: History
) -> None:
    clock.set(START)
    in_sets, by_row = _tenant(ledger, history), _tenant(ledger, history)
    engine = owner_engine(ledger)
    for part, moves in (("a", history.first), ("b", history.then)):
        if part == "b":  # cycles close and debts fall due between the two rebuilds
            clock.advance(days=history.days_between)
        with engine.begin() as connection:
            for tenant_id in (in_sets, by_row):
                _write(connection, tenant_id, part, moves)
            marks = {t: _last_position(connection, t) for t in (in_sets, by_row)}
        written = cycles.rebuild(ledger, in_sets, batch_size=history.batch_size)
        expected = cycles.rebuild_row_by_row(ledger, by_row, batch_size=history.batch_size)
        assert written == expected
        with engine.connect() as connection:
            assert _rows(connection, in_sets) == _rows(connection, by_row)
            events = _events(connection, in_sets, marks[in_sets])
            assert events == _events(connection, by_row, marks[by_row])
            assert (
                len([e for e in events if e[0].endswith("_ledger.changed")]) == written.rows_changed
            )
    with engine.connect() as connection:
        rows, mark = _rows(connection, in_sets), _last_position(connection, in_sets)
    again = cycles.rebuild(ledger, in_sets, batch_size=history.batch_size)
    assert again.rows_changed == 0
    with engine.connect() as connection:
        assert _rows(connection, in_sets) == rows
        assert _events(connection, in_sets, mark) == []
