"""A legacy database in the seeds' shape, on the real PostgreSQL, for the migration tests.

``legacy_schema`` makes ``legacy_<random>`` in the test database with the columns seed 004
documents (``fact_accumulations`` with a key column ``id``, ``fact_balance_points``), fills it
with generated users whose running balances never go below zero, and plants the seeds' own
integrity failures: a ``fact_balance_points.balance`` that is not the sum of its rows, and a
user with rows but no balance row (and, with ``budgets``, a budget ``balance`` its
``ledger_entries`` do not give). ``Planted`` says which, for the tests to expect exactly those.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from rewardledger.domain.money import format_minor
from tests.conftest import POSTGRES_URL, require_postgres

SOURCE_URL = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
EARN_REASONS = ("invoice", "daily_game", "streak", "achievement")
SPEND_REASONS = ("points", "ocr", "legacy_reward")
START = datetime(2025, 1, 1, 8, 0)  # noqa: DTZ001 - the seed's "date" is a TIMESTAMP, no zone

DDL = """
CREATE TABLE {schema}.fact_accumulations (
    id bigserial PRIMARY KEY,
    user_id integer,
    accum_type varchar(20),
    dtype varchar(40),
    quantity numeric,
    balance numeric,
    "date" timestamp,
    redemption_id uuid
);
CREATE TABLE {schema}.fact_balance_points (
    user_id integer PRIMARY KEY,
    balance bigint NOT NULL,
    latest_update timestamp
);
"""


DEBT_DDL = """
CREATE TABLE {schema}.debt_movements (
    id bigserial PRIMARY KEY,
    person_id varchar(36),
    cycle_tag varchar(10),
    initial_debt numeric(18,2) DEFAULT 0,
    new_debt numeric(18,2) DEFAULT 0,
    repayments numeric(18,2) DEFAULT 0,
    debt_discount numeric(18,2) DEFAULT 0,
    created_at timestamp
);
CREATE TABLE {schema}.debt_ledger (
    debt_ledger_id varchar(36) PRIMARY KEY,
    person_id varchar(36) NOT NULL,
    cycle_tag varchar(10),
    initial_debt numeric(18,2) DEFAULT 0,
    new_debt numeric(18,2) DEFAULT 0,
    repayments numeric(18,2) DEFAULT 0,
    debt_discount numeric(18,2) DEFAULT 0,
    net_debt numeric(18,2) DEFAULT 0
);
"""
CASHBACK_DDL = """
CREATE TABLE {schema}.cashback_movements (
    id bigserial PRIMARY KEY,
    account_id varchar(36),
    cycle_tag varchar(10),
    spend_amount numeric(18,2),
    cashback_amount numeric(18,2),
    budget_cap numeric(18,2),
    created_at timestamp
);
CREATE TABLE {schema}.cashback_ledger (
    cashback_ledger_id varchar(36) PRIMARY KEY,
    account_id varchar(36) NOT NULL,
    cycle_tag varchar(10) NOT NULL,
    total_spend numeric(18,2) DEFAULT 0,
    total_cashback numeric(18,2) DEFAULT 0,
    budget_cap numeric(18,2) DEFAULT 0
);
"""

# Seeds 002/003: budgets (balance = reserved - released, the hard cap checked against it) and
# their immutable ledger_entries; a key ``id`` for each entry is what the migration needs.
BUDGET_DDL = """
CREATE TABLE {schema}.budgets (
    id varchar(36) PRIMARY KEY,
    tenant_id varchar(36),
    currency varchar(3) NOT NULL,
    balance numeric(18,2) NOT NULL DEFAULT 0,
    hard_cap numeric(18,2) NOT NULL,
    soft_cap numeric(18,2),
    period varchar(10)
);
CREATE TABLE {schema}.ledger_entries (
    id bigserial PRIMARY KEY,
    tenant_id varchar(36),
    budget_id varchar(36) NOT NULL,
    entry_type varchar(10) NOT NULL,
    currency varchar(3),
    amount numeric(18,2) NOT NULL,
    ref_type varchar(20),
    ref_id varchar(64),
    created_at timestamp
);
"""

# Seed 004 names rewards.user_redemptions but none of its columns: these two are the keys the
# seed does name (fact_accumulations.redemption_id links to a redemption; user_id, the user).
REDEMPTIONS_DDL = """
CREATE TABLE {schema}.user_redemptions (
    redemption_id uuid PRIMARY KEY,
    user_id integer
);
INSERT INTO {schema}.user_redemptions
SELECT gen_random_uuid(), u FROM generate_series(1, 3) u;
"""


@dataclass
class Planted:
    """The users whose figures must differ after a migration, and each one's true sum."""

    schema: str
    sums: dict[int, int] = field(default_factory=dict)
    off_balance: dict[int, int] = field(default_factory=dict)  # user -> stored (wrong) balance
    without_balance: set[int] = field(default_factory=set)
    rows: int = 0
    debt_rows: int = 0
    net_debt: dict[tuple[str, str], str] = field(default_factory=dict)  # the true figures
    off_net_debt: dict[tuple[str, str], str] = field(default_factory=dict)  # stored, wrong
    cashback_rows: int = 0
    total_cashback: dict[tuple[str, str], str] = field(default_factory=dict)
    off_total_cashback: dict[tuple[str, str], str] = field(default_factory=dict)
    budget_rows: int = 0
    budget_entry_rows: int = 0
    budget_balance: dict[str, str] = field(default_factory=dict)  # reserved - released
    off_budget_balance: dict[str, str] = field(default_factory=dict)  # stored, wrong
    reversed_charges: dict[str, int] = field(default_factory=dict)  # budget -> entry key


def _rows(users: int, per_user: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    when = START
    balances = dict.fromkeys(range(1, users + 1), 0)
    for step in range(users * per_user):
        user = rng.randint(1, users)
        when += timedelta(minutes=rng.randint(1, 90))
        if balances[user] >= 10 and rng.random() < 0.35:
            quantity = -rng.randint(1, balances[user])
            accum, dtype = "spend", SPEND_REASONS[step % len(SPEND_REASONS)]
        else:
            quantity = rng.randint(1, 500)
            accum, dtype = "earn", EARN_REASONS[step % len(EARN_REASONS)]
        balances[user] += quantity
        # numeric(…,2)-style values for some rows: "120.00" is 120 points.
        text = f"{quantity}.00" if step % 3 == 0 else str(quantity)
        yield user, accum, dtype, text, balances[user], when


def fill(
    connection: psycopg.Connection[object], schema: str, users: int, per_user: int, plant: bool
) -> Planted:
    """Generated rows, their balances, and (``plant``) two planted integrity failures."""
    planted = Planted(schema)
    name = sql.Identifier(schema)
    copy = sql.SQL(
        'COPY {}.fact_accumulations (user_id, accum_type, dtype, quantity, balance, "date") '
        "FROM STDIN"
    ).format(name)
    with connection.cursor() as cursor, cursor.copy(copy) as writer:
        for user, accum, dtype, quantity, balance, when in _rows(users, per_user, random.Random(7)):
            writer.write_row((user, accum, dtype, quantity, balance, when))
            planted.sums[user] = balance  # type: ignore[index]
            planted.rows += 1
    off, missing = min(planted.sums), max(planted.sums)
    if plant:
        planted.off_balance[off] = planted.sums[off] + 7
        planted.without_balance.add(missing)
    with connection.cursor() as cursor:
        cursor.executemany(
            sql.SQL("INSERT INTO {}.fact_balance_points VALUES (%s, %s, %s)").format(name),
            [
                (user, planted.off_balance.get(user, total), START)
                for user, total in planted.sums.items()
                if user not in planted.without_balance
            ],
        )
    return planted


def fill_debt(connection: psycopg.Connection[object], planted: Planted, plant: bool) -> None:
    """Debt movements of five people over two cycles (in cents), their debt_ledger as seed
    001's sync sums them (net = initial + new - repayments - discount per person and cycle),
    one planted wrong ``net_debt`` and one row of "the current cycle" (no tag)."""
    rng = random.Random(11)
    name = sql.Identifier(planted.schema)
    sums: dict[tuple[str, str], list[int]] = {}
    rows = []
    for step in range(30):
        # Cycle 2025-01, then 2025-02; each person's first movement of a cycle carries its
        # opening debt (the previous cycle's net, as the old system carried it).
        person, month = f"p{step % 5}", 1 + step // 15
        amounts = [0, rng.randint(100, 9_000), 0, 0]
        if step < 5:
            amounts[0] = rng.randint(1_000, 5_000)
        elif 15 <= step < 20:
            initial, new, repaid, discount = sums[(person, "2025-01")]
            amounts[0] = initial + new - repaid - discount
        if step % 3 == 0:
            amounts[2] = rng.randint(1, amounts[1])
        if step % 7 == 0:
            amounts[3] = rng.randint(1, 50)
        tag = f"2025-{month:02d}"
        total = sums.setdefault((person, tag), [0, 0, 0, 0])
        for i, cents in enumerate(amounts):
            total[i] += cents
        when = datetime(2025, month, 1 + step % 20, 9, 0)  # noqa: DTZ001 - a TIMESTAMP
        rows.append((person, tag, *(format_minor(c, 2) for c in amounts), when))
    with connection.cursor() as cursor:
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {}.debt_movements (person_id, cycle_tag, initial_debt, new_debt, "
                "repayments, debt_discount, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ).format(name),
            rows,
        )
        ledger_rows = []
        for (person, tag), (initial, new, repaid, discount) in sorted(sums.items()):
            net = format_minor(initial + new - repaid - discount, 2)
            planted.net_debt[(person, tag)] = net
            stored = net
            if plant and (person, tag) == ("p1", "2025-02"):
                stored = format_minor(initial + new - repaid - discount + 150, 2)
                planted.off_net_debt[(person, tag)] = stored
            ledger_rows.append((f"{person}-{tag}", person, tag, stored))
        ledger_rows.append(("p0-current", "p0", None, "1.00"))
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {}.debt_ledger (debt_ledger_id, person_id, cycle_tag, net_debt) "
                "VALUES (%s, %s, %s, %s)"
            ).format(name),
            ledger_rows,
        )
    planted.debt_rows = len(rows)


def fill_cashback(connection: psycopg.Connection[object], planted: Planted, plant: bool) -> None:
    """Accruals of four accounts over two cycles, capped as the old system capped them (the
    stored ``cashback_amount`` is what it credited), their cashback_ledger rows, and one
    planted wrong ``total_cashback``."""
    rng = random.Random(5)
    name = sql.Identifier(planted.schema)
    cap = 2_500
    totals: dict[tuple[str, str], list[int]] = {}
    rows = []
    for step in range(24):
        account, month = f"a{step % 4}", 1 + step // 12
        tag = f"2025-{month:02d}"
        spend = rng.randint(1_000, 90_000)
        total = totals.setdefault((account, tag), [0, 0])
        credited = min(spend // 20, cap - total[1])  # 5 %, up to the cap
        if credited <= 0:
            continue
        total[0] += spend
        total[1] += credited
        when = datetime(2025, month, 2 + step % 20, 10, 0)  # noqa: DTZ001 - a TIMESTAMP
        rows.append(
            (account, tag, format_minor(spend, 2), format_minor(credited, 2), "25.00", when)
        )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {}.cashback_movements (account_id, cycle_tag, spend_amount, "
                "cashback_amount, budget_cap, created_at) VALUES (%s, %s, %s, %s, %s, %s)"
            ).format(name),
            rows,
        )
        ledger_rows = []
        for (account, tag), (spent, credited) in sorted(totals.items()):
            planted.total_cashback[(account, tag)] = format_minor(credited, 2)
            stored = format_minor(credited, 2)
            if plant and (account, tag) == ("a2", "2025-01"):
                stored = format_minor(credited - 1, 2)
                planted.off_total_cashback[(account, tag)] = stored
            row = (f"{account}-{tag}", account, tag, format_minor(spent, 2), stored, "25.00")
            ledger_rows.append(row)
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {}.cashback_ledger (cashback_ledger_id, account_id, cycle_tag, "
                "total_spend, total_cashback, budget_cap) VALUES (%s, %s, %s, %s, %s, %s)"
            ).format(name),
            ledger_rows,
        )
    planted.cashback_rows = len(rows)


BUDGETS = (("b-usd-monthly", "USD", "monthly"), ("b-zwg-rolling", "ZWG", "rolling"))


def _budget_entries(
    budget: str, currency: str, rng: random.Random, start: int
) -> tuple[list[tuple[object, ...]], int, int]:
    """A budget's entries as seeds 002/003 write them: a fund, reserves of issuances, each
    then charged, released (seed 002: with a negative amount) or left open, and one reverse
    of a charge (ref_id: the charge entry's key). Returns the rows, the balance the old
    system's rules give (reserved - released - reversed charges) and the reverse's target."""
    rows: list[tuple[object, ...]] = []
    when = datetime(2025, 3, 1, 9, 0)  # noqa: DTZ001 - a TIMESTAMP
    key, balance, charged = start, 0, None

    def add(kind: str, cents: int, ref: str | None, ref_type: str) -> int:
        nonlocal key, when
        key += 1
        when += timedelta(minutes=rng.randint(1, 120))
        rows.append((key, budget, kind, currency, format_minor(cents, 2), ref_type, ref, when))
        return key

    add("fund", 500_000, None, "topup")
    for n in range(8):
        cents, issuance = rng.randint(1_000, 20_000), f"iss-{budget}-{n}"
        add("reserve", cents, issuance, "issuance")
        balance += cents
        if n % 3 == 0:
            charged = add("charge", cents, issuance, "issuance")
        elif n % 3 == 1:
            add("release", -cents, issuance, "issuance")
            balance -= cents
    assert charged is not None
    add("reverse", -500, str(charged), "entry")  # a part of that charge given back
    return rows, balance - 500, charged


def fill_budgets(connection: psycopg.Connection[object], planted: Planted, plant: bool) -> None:
    """Two budgets with their entries, and (``plant``) one stored ``balance`` its entries do
    not give (seed 002's ReconcileBudget discrepancy)."""
    rng = random.Random(3)
    name = sql.Identifier(planted.schema)
    budget_rows, entry_rows = [], []
    for budget, currency, period in BUDGETS:
        rows, balance, charged = _budget_entries(budget, currency, rng, len(entry_rows))
        entry_rows.extend(rows)
        true = format_minor(balance, 2)
        planted.budget_balance[budget] = true
        planted.reversed_charges[budget] = charged
        stored = true
        if plant and budget == "b-zwg-rolling":
            stored = format_minor(balance + 1_234, 2)
            planted.off_budget_balance[budget] = stored
        budget_rows.append((budget, "t1", currency, stored, "10000.00", "8000.00", period))
    with connection.cursor() as cursor:
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {}.budgets (id, tenant_id, currency, balance, hard_cap, soft_cap, "
                "period) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ).format(name),
            budget_rows,
        )
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {}.ledger_entries (id, budget_id, entry_type, currency, amount, "
                "ref_type, ref_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            ).format(name),
            entry_rows,
        )
    planted.budget_rows, planted.budget_entry_rows = len(budget_rows), len(entry_rows)


@contextmanager
def legacy_schema(
    users: int = 12,
    per_user: int = 6,
    *,
    plant: bool = True,
    debt: bool = False,
    cashback: bool = False,
    budgets: bool = False,
    redemptions: bool = False,
) -> Iterator[Planted]:
    """A fresh ``legacy_<random>`` schema in the test database, dropped afterwards."""
    require_postgres()
    schema = f"legacy_{secrets.token_hex(5)}"
    with psycopg.connect(SOURCE_URL, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL(DDL.format(schema=schema)))  # type: ignore[arg-type]
        if debt:
            connection.execute(sql.SQL(DEBT_DDL.format(schema=schema)))  # type: ignore[arg-type]
        if cashback:
            connection.execute(sql.SQL(CASHBACK_DDL.format(schema=schema)))  # type: ignore[arg-type]
        if budgets:
            connection.execute(sql.SQL(BUDGET_DDL.format(schema=schema)))  # type: ignore[arg-type]
        if redemptions:
            connection.execute(sql.SQL(REDEMPTIONS_DDL.format(schema=schema)))  # type: ignore[arg-type]
    try:
        with psycopg.connect(SOURCE_URL) as connection:
            planted = fill(connection, schema, users, per_user, plant)
            if debt:
                fill_debt(connection, planted, plant)
            if cashback:
                fill_cashback(connection, planted, plant)
            if budgets:
                fill_budgets(connection, planted, plant)
        yield planted
    finally:
        with psycopg.connect(SOURCE_URL, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def execute(statement: str, *params: object) -> None:
    """Plain SQL on the legacy database (``{schema}`` already filled in by the caller)."""
    with psycopg.connect(SOURCE_URL, autocommit=True) as connection:
        connection.execute(statement, params)  # type: ignore[arg-type]
