"""A legacy database in the seeds' shape, on the real PostgreSQL, for the migration tests.

``legacy_schema`` makes ``legacy_<random>`` in the test database with the columns seed 004
documents (``fact_accumulations`` with a key column ``id``, ``fact_balance_points``), fills it
with generated users whose running balances never go below zero, and plants the seeds' own
integrity failures: a ``fact_balance_points.balance`` that is not the sum of its rows, and a
user with rows but no balance row. ``Planted`` says which, for the tests to expect exactly those.
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


@dataclass
class Planted:
    """The users whose figures must differ after a migration, and each one's true sum."""

    schema: str
    sums: dict[int, int] = field(default_factory=dict)
    off_balance: dict[int, int] = field(default_factory=dict)  # user -> stored (wrong) balance
    without_balance: set[int] = field(default_factory=set)
    rows: int = 0


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


@contextmanager
def legacy_schema(users: int = 12, per_user: int = 6, *, plant: bool = True) -> Iterator[Planted]:
    """A fresh ``legacy_<random>`` schema in the test database, dropped afterwards."""
    require_postgres()
    schema = f"legacy_{secrets.token_hex(5)}"
    with psycopg.connect(SOURCE_URL, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL(DDL.format(schema=schema)))  # type: ignore[arg-type]
    try:
        with psycopg.connect(SOURCE_URL) as connection:
            planted = fill(connection, schema, users, per_user, plant)
        yield planted
    finally:
        with psycopg.connect(SOURCE_URL, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def execute(statement: str, *params: object) -> None:
    """Plain SQL on the legacy database (``{schema}`` already filled in by the caller)."""
    with psycopg.connect(SOURCE_URL, autocommit=True) as connection:
        connection.execute(statement, params)  # type: ignore[arg-type]
