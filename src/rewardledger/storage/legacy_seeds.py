"""Reading the seeds' tables from an existing PostgreSQL database (psycopg 3).

Owns: the SQL that reads the old system (``rewards.fact_accumulations``,
``rewards.fact_balance_points`` and, where present, the cycle and budget tables; names from
``domain.seed_migration.SeedTables``). Protects flat memory: every read is a server-side
(named) cursor fetched ``batch_size`` rows at a time, in a read-only transaction, so the
source is never changed and never loaded whole. Names are quoted as identifiers, never
pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from rewardledger.domain.errors import DatabaseUnavailable, ValidationError
from rewardledger.domain.seed_migration import (
    ACCUMULATION_COLUMNS,
    ACCUMULATIONS,
    BALANCE_COLUMNS,
    BALANCES,
    BUDGET_COLUMNS,
    BUDGET_ENTRIES,
    BUDGET_ENTRY_COLUMNS,
    BUDGETS,
    CASHBACK_LEDGER,
    CASHBACK_LEDGER_COLUMNS,
    CASHBACK_MOVEMENT_COLUMNS,
    CASHBACK_MOVEMENTS,
    DEBT_LEDGER,
    DEBT_LEDGER_COLUMNS,
    DEBT_MOVEMENT_COLUMNS,
    DEBT_MOVEMENTS,
    REDEMPTION_COLUMNS,
    REDEMPTIONS,
    SeedTables,
)
from rewardledger.storage.engine import safe_url

SOURCE_CONNECT_TIMEOUT_SECONDS = 10


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresLegacySource:
    """A ``services.migrate.port.LegacySource`` over a psycopg connection to the source."""

    def __init__(self, url: str, tables: SeedTables) -> None:
        if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValidationError(
                "--source must be a postgresql:// URL of the old system's database.",
                field="source",
            )
        self.tables = tables
        try:
            self._connection = psycopg.connect(
                _conninfo(url), connect_timeout=SOURCE_CONNECT_TIMEOUT_SECONDS
            )
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(
                safe_url(url),
                str(error).strip() or type(error).__name__,
                "Check --source (host, port, database, user) and that the server is running.",
            ) from None
        self._connection.read_only = True
        self._cursors = 0
        try:
            self._present = self._tables_present()
        except BaseException:
            self._connection.close()  # a source without the tables: no connection left open
            raise

    def _tables_present(self) -> set[str]:
        return {
            logical
            for logical, columns, required in (
                (ACCUMULATIONS, ACCUMULATION_COLUMNS, True),
                (BALANCES, BALANCE_COLUMNS, True),
                (DEBT_MOVEMENTS, DEBT_MOVEMENT_COLUMNS, False),
                (DEBT_LEDGER, DEBT_LEDGER_COLUMNS, False),
                (CASHBACK_MOVEMENTS, CASHBACK_MOVEMENT_COLUMNS, False),
                (CASHBACK_LEDGER, CASHBACK_LEDGER_COLUMNS, False),
                (BUDGETS, BUDGET_COLUMNS, False),
                (BUDGET_ENTRIES, BUDGET_ENTRY_COLUMNS, False),
                (REDEMPTIONS, REDEMPTION_COLUMNS, False),
            )
            if self._check_columns(logical, columns, required=required)
        }

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> PostgresLegacySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _name(self, logical: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(
            sql.Identifier(self.tables.schema), sql.Identifier(self.tables.table(logical))
        )

    def has(self, logical: str) -> bool:
        return logical in self._present

    def _check_columns(self, logical: str, columns: tuple[str, ...], *, required: bool) -> bool:
        """Whether the table is there (an optional one may be absent) with ``columns``."""
        found = {
            str(row[0])
            for row in self._connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                (self.tables.schema, self.tables.table(logical)),
            )
        }
        self._connection.rollback()
        where = f"{self.tables.schema}.{self.tables.table(logical)}"
        if not found and not required:
            return False
        if not found:
            raise ValidationError(
                f"The source has no table {where}; name the schema with --schema or the "
                f"table with --table-name {logical}=NAME.",
                field="source",
            )
        missing = [c for c in columns if c not in found]
        if missing:
            raise ValidationError(
                f"{where} has no column {', '.join(missing)}; it needs {', '.join(columns)} "
                "(see docs/migrating.md).",
                field="source",
            )
        return True

    def count(self, logical: str) -> int:
        return self._count(sql.SQL("SELECT count(*) FROM {}").format(self._name(logical)))

    def _count(self, query: sql.Composed) -> int:
        """The count ``query`` selects, read in a transaction of its own."""
        row = self._connection.execute(query).fetchone()
        self._connection.rollback()
        return int(row[0]) if row is not None else 0

    def _stream(self, query: sql.Composed, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """``query``'s rows, ``batch_size`` at a time, through a server-side cursor."""
        self._cursors += 1
        name = f"rewardledger_migrate_{self._cursors}"
        try:
            with self._connection.cursor(name=name, row_factory=dict_row) as cursor:
                cursor.itersize = batch_size
                cursor.execute(query)
                while rows := cursor.fetchmany(batch_size):
                    yield rows
        finally:
            self._connection.rollback()

    def _columns(self, columns: tuple[str, ...], alias: LiteralString = "t") -> sql.Composed:
        return sql.SQL(", ").join(sql.Identifier(alias, c) for c in columns)

    def _table(
        self, logical: str, columns: tuple[str, ...], order: LiteralString, batch_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """The seed table ``logical``'s ``columns``, ordered by ``order`` (of its alias ``t``),
        ``batch_size`` rows at a time."""
        query = sql.SQL("SELECT {} FROM {} t ORDER BY {}").format(
            self._columns(columns), self._name(logical), sql.SQL(order)
        )
        return self._stream(query, batch_size)

    def accumulations(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(ACCUMULATIONS, ACCUMULATION_COLUMNS, 't."date", t.id', batch_size)

    def balances(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(BALANCES, BALANCE_COLUMNS, "t.user_id", batch_size)

    def _without_balance(self) -> sql.Composed:
        return sql.SQL(
            "SELECT DISTINCT a.user_id FROM {} a WHERE a.user_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM {} b WHERE b.user_id = a.user_id)"
        ).format(self._name(ACCUMULATIONS), self._name(BALANCES))

    def count_users_without_balance(self) -> int:
        return self._count(sql.SQL("SELECT count(*) FROM ({}) u").format(self._without_balance()))

    def users_without_balance(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        query = sql.SQL("SELECT u.user_id FROM ({}) u ORDER BY u.user_id").format(
            self._without_balance()
        )
        return self._stream(query, batch_size)

    def debt_movements(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(DEBT_MOVEMENTS, DEBT_MOVEMENT_COLUMNS, "t.created_at, t.id", batch_size)

    def debt_ledger(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(DEBT_LEDGER, DEBT_LEDGER_COLUMNS, "t.person_id, t.cycle_tag", batch_size)

    def cashback_movements(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(
            CASHBACK_MOVEMENTS, CASHBACK_MOVEMENT_COLUMNS, "t.created_at, t.id", batch_size
        )

    def cashback_ledger(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(
            CASHBACK_LEDGER, CASHBACK_LEDGER_COLUMNS, "t.account_id, t.cycle_tag", batch_size
        )

    def budgets(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(BUDGETS, BUDGET_COLUMNS, "t.id", batch_size)

    def budget_entries(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        return self._table(BUDGET_ENTRIES, BUDGET_ENTRY_COLUMNS, "t.created_at, t.id", batch_size)
