"""The PostgreSQL write session: one statement for all the changes of a write; COPY for large ones.

Owns: the data-modifying CTE that appends journal rows, outbox rows and holds and writes the
account totals, and the COPY path for large writes. Protects invariant 3 under concurrency:
accounts are locked ``ORDER BY account_id FOR UPDATE`` before they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import Connection as PgConnection
from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect

from rewardledger.domain.accounts import AccountState
from rewardledger.domain.errors import DuplicateIdError
from rewardledger.domain.transfers import PendingRow
from rewardledger.storage import schema
from rewardledger.storage.engine import sqlstate
from rewardledger.storage.write_rows import (
    ACCOUNT_TOTALS,
    ACCOUNT_VALUES,
    HOLD_COLUMNS,
    LOCK_COLUMNS,
    OUTBOX_COLUMNS,
    PENDING_COLUMNS,
    TRANSFER_COLUMNS,
    UNIQUE_VIOLATION,
    AccountsOpened,
    Codec,
    WriteBatch,
    WriteSessionBase,
    _state,
)

# Open accounts idempotently in one statement: the ones inserted (a concurrent twin's are
# skipped by ON CONFLICT, which waits for it) get their ``account.created`` event.
_OPEN_ACCOUNTS = (
    "WITH wanted AS (SELECT * FROM unnest(%(ids)s::text[], %(event_ids)s::text[]) "
    "AS w(account_id, event_id)), "
    "made AS (INSERT INTO accounts (tenant_id, account_id, asset_code, no_negative, "
    "created_at, updated_at, managed_by) "
    "SELECT %(tenant)s, account_id, %(asset)s, false, %(now)s, %(now)s, %(managed_by)s "
    "FROM wanted ORDER BY account_id ON CONFLICT DO NOTHING RETURNING account_id), "
    "events AS (INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, "
    "created_at) SELECT %(tenant)s, w.event_id, 'account.created', m.account_id, "
    "%(payload)s, %(now)s FROM made AS m JOIN wanted AS w USING (account_id)) "
    "SELECT account_id FROM made"
)


def _pg_type(column: Column[Any], dialect: Dialect) -> str:
    return str(column.type.dialect_impl(dialect).compile(dialect=dialect))


def unnest_insert(table: Table, columns: Sequence[str], dialect: Dialect) -> str:
    """An INSERT of many rows in one statement: one array per column (psycopg ``%(column)b``
    parameters, each a list, sent in binary), for ``SqlUnit.write_columns``."""
    arrays = ", ".join(f"%({name})b::{_pg_type(table.c[name], dialect)}[]" for name in columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"


def _pg_copy(table: Table, columns: Sequence[str], dialect: Dialect) -> tuple[str, list[str]]:
    """A binary COPY statement for ``columns`` and the PostgreSQL type of each column."""
    types = [_pg_type(table.c[name], dialect).split("(")[0].lower() for name in columns]
    names = ", ".join(columns)
    return f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)", types


class PostgresStatements:
    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self.lock = (
            f"SELECT {', '.join(LOCK_COLUMNS)} FROM accounts "
            "WHERE tenant_id = %s AND account_id = ANY(%s) ORDER BY account_id FOR UPDATE"
        )
        self.pending_rows = (
            f"SELECT {', '.join(PENDING_COLUMNS)} FROM transfers "
            "WHERE tenant_id = %s AND transfer_id = ANY(%s) "
            "AND phase = 'pending' AND error_code IS NULL"
        )
        self.existing = self.lock.removesuffix(" FOR UPDATE")
        self.open_holds = (
            "SELECT transfer_id FROM holds WHERE tenant_id = %s AND transfer_id = ANY(%s)"
        )
        self.resolutions = (
            "SELECT pending_id, transfer_id FROM transfers "
            "WHERE tenant_id = %s AND pending_id = ANY(%s) AND error_code IS NULL"
        )
        self.copy_transfers = _pg_copy(schema.transfers, TRANSFER_COLUMNS, dialect)
        self.copy_outbox = _pg_copy(schema.outbox, OUTBOX_COLUMNS, dialect)
        self._copies: dict[tuple[str, tuple[str, ...]], tuple[str, list[str]]] = {}
        self._writes: dict[tuple[int, int, int, int, int, bool], str] = {}
        # PostgreSQL refuses COPY FROM into a table whose row-level security applies to the
        # connected role (the application's; not the owner's): None until first asked.
        self.copy_allowed: bool | None = None
        self.copy_allowed_query = (
            "SELECT NOT (row_security_active('transfers') OR row_security_active('outbox'))"
        )

    def copy_of(self, table: Table, columns: Sequence[str]) -> tuple[str, list[str]]:
        """The binary COPY of ``columns`` into ``table`` (a service's rows), made once."""
        key = (table.name, tuple(columns))
        found = self._copies.get(key)
        if found is None:
            found = self._copies[key] = _pg_copy(table, columns, self._dialect)
        return found

    def write(
        self, journal: int, outbox: int, opened: int, closed: int, accounts: int, *, arrays: bool
    ) -> str:
        """One statement that makes every change of a write (data-modifying CTEs).

        With ``arrays``, each table's rows come as one array per column (``unnest``), which
        suits many rows; otherwise as scalar ``VALUES`` rows, which psycopg binds much faster
        for the few rows of a single transfer. The text depends only on the row counts (or
        only on which parts are present, with arrays), so psycopg prepares it once per shape.
        """
        shape = (journal, outbox, opened, closed, accounts, arrays)
        found = self._writes.get(shape)
        if found is None:
            found = self._writes[shape] = self._build_write(*shape)
        return found

    def _build_write(
        self, journal: int, outbox: int, opened: int, closed: int, accounts: int, arrays: bool
    ) -> str:
        def rows(table: Table, columns: Sequence[str], count: int) -> str:
            if arrays:
                # Arrays go in binary (%b): psycopg dumps a list of 2,000 values about ten
                # times faster so than as the text of an array literal.
                casts = ", ".join(
                    f"%b::{_pg_type(table.c[name], self._dialect)}[]" for name in columns
                )
                return f"SELECT * FROM unnest({casts})"
            row = (
                "("
                + ", ".join(f"%s::{_pg_type(table.c[name], self._dialect)}" for name in columns)
                + ")"
            )
            return "VALUES " + ", ".join([row] * count)

        parts = []
        for name, table, columns, count in (
            ("journal", schema.transfers, TRANSFER_COLUMNS, journal),
            ("events", schema.outbox, OUTBOX_COLUMNS, outbox),
            ("opened", schema.holds, HOLD_COLUMNS, opened),
        ):
            if count:
                parts.append(
                    f"{name} AS (INSERT INTO {table.name} ({', '.join(columns)}) "
                    f"{rows(table, columns, count)})"
                )
        if closed:
            parts.append(
                "closed AS (DELETE FROM holds WHERE tenant_id = %s AND transfer_id = ANY(%s))"
            )
        if accounts:
            assignments = ", ".join(
                f"{name} = v.{name}" for name in (*ACCOUNT_TOTALS, "updated_at")
            )
            parts.append(
                f"changed AS (UPDATE accounts AS a SET {assignments} "
                f"FROM ({rows(schema.accounts, ACCOUNT_VALUES, accounts)}) "
                f"AS v({', '.join(ACCOUNT_VALUES)}) "
                "WHERE a.tenant_id = %s AND a.account_id = v.account_id)"
            )
        assert parts, "a write changes something"
        return "WITH " + ", ".join(parts) + " SELECT 1"


# Up to this many ids, a lock and the holds read after it are bound on the client and sent as
# one round trip; beyond it (a large batch) binding on the server is faster than the round trip.
_TOGETHER_IDS_MAX = 64


@contextmanager
def unique_is_duplicate() -> Iterator[None]:
    """A service's unique key taken, by statements sent on the driver: ``DuplicateIdError``,
    as for its statements run through SQLAlchemy (``storage.posting.translated_errors``)."""
    try:
        yield
    except psycopg.Error as error:
        if sqlstate(error) == UNIQUE_VIOLATION:
            raise DuplicateIdError(str(error)) from error
        raise


def rows_after_kept(cursor: Any, kept: int, statements: int) -> list[list[Any]]:
    """Each statement's rows, from a cursor that ran ``kept`` writes and then ``statements``
    in one round trip: the writes' results are skipped."""
    for _ in range(kept):
        cursor.nextset()
    results: list[list[Any]] = []
    for n in range(statements):
        results.append(cursor.fetchall())
        if n + 1 < statements:
            cursor.nextset()
    return results


# From this many journal rows on, COPY beats an INSERT of unnest() arrays (measured: about
# 10 ms against 20 ms for 1,000 rows) although it takes two more round trips. Only where
# row-level security does not apply to the connected role (the owner): see ``copy_allowed``.
_COPY_ROWS_MIN = 64


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows to one list per column, for unnest()."""
    return [list(column) for column in zip(*rows, strict=True)]


def _flatten(rows: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Rows to one flat parameter list, for VALUES."""
    return [value for row in rows for value in row]


class PostgresWriteSession(WriteSessionBase):
    """Round trips of a write: BEGIN, the lock, one statement for all changes (after COPYing
    the journal and outbox when the write is large), COMMIT.

    Inside a unit of work (``storage.unit.SqlUnit``) two things spare a unit round trips:

    - ``take_kept`` hands over the unit's kept writes (``SqlUnit.later``); the session sends
      them in the same round trip as its next statement, before it (program order), so a
      service's writes made before the core's lock ride with that lock.
    - ``know_pending`` takes pending journal rows the unit read already (a budget charge reads
      its reservation's pending transfer with the budget's lock): a journal row never changes,
      so ``pending_rows`` answers them without a statement. The holds of the pending rows of a
      write are then read in the lock's round trip, as a statement of their own after it (each
      statement takes its own snapshot in READ COMMITTED, so it sees what the lock waited for).
    """

    _sql: PostgresStatements

    def __init__(
        self,
        connection: PgConnection[Any],
        statements: PostgresStatements,
        codec: Codec,
        tenant_id: str,
    ) -> None:
        super().__init__(codec, tenant_id)
        self._connection = connection
        self._sql = statements
        self.take_kept: Callable[[], list[str]] | None = None
        self._known_pending: dict[str, PendingRow] = {}
        self._holds_of: list[str] = []  # pending ids whose holds the next lock reads too
        self._holds_read: tuple[list[str], set[str]] | None = None
        self._binder: psycopg.ClientCursor[Any] | None = None

    def know_pending(self, rows: Sequence[PendingRow]) -> None:
        self._known_pending.update((row.id, row) for row in rows)

    def pending_rows(self, pending_ids: Sequence[str]) -> dict[str, PendingRow]:
        ids = sorted(pending_ids)
        self._holds_of = ids if len(ids) <= _TOGETHER_IDS_MAX else []
        known = self._known_pending
        if known and all(pending_id in known for pending_id in ids):
            return {pending_id: known[pending_id] for pending_id in ids}
        return super().pending_rows(ids)

    def lock_accounts(self, account_ids: Sequence[str]) -> dict[str, AccountState]:
        holds_of, self._holds_of = self._holds_of, []
        if not holds_of or len(account_ids) > _TOGETHER_IDS_MAX:
            return super().lock_accounts(account_ids)
        params = (self._tenant_id, list(holds_of))
        locked, holds = self._together(
            [
                (self._sql.lock, (self._tenant_id, list(account_ids))),
                (self._sql.open_holds, params),
            ],
            self._kept(),
        )
        self._holds_read = (holds_of, {row[0] for row in holds})
        return {row[0]: _state(self._codec, row) for row in locked}

    def open_holds(self, pending_ids: Sequence[str]) -> set[str]:
        read, self._holds_read = self._holds_read, None
        if read is not None and read[0] == sorted(pending_ids):
            return read[1]
        return super().open_holds(pending_ids)

    def _kept(self) -> list[str]:
        return self.take_kept() if self.take_kept is not None else []

    def _together(
        self, statements: Sequence[tuple[str, Sequence[Any]]], kept: Sequence[str] = ()
    ) -> list[list[tuple[Any, ...]]]:
        """The ``kept`` writes, then ``statements``, in one round trip (bound on the client):
        each statement's rows."""
        if self._binder is None:
            self._binder = psycopg.ClientCursor(self._connection)  # binds only: sends nothing
        bound = [self._binder.mogrify(sql, params) for sql, params in statements]
        with unique_is_duplicate(), self._connection.cursor() as cursor:
            cursor.execute(";\n".join([*kept, *bound]))
            return rows_after_kept(cursor, len(kept), len(statements))

    def _query(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        kept = self._kept()
        if kept:
            return self._together([(sql, (self._tenant_id, list(ids)))], kept)[0]
        return self._connection.execute(sql, (self._tenant_id, list(ids))).fetchall()

    def _send_kept(self) -> None:
        """Before a statement bound on the server (a write): the kept writes, on their own."""
        kept = self._kept()
        if kept:
            with unique_is_duplicate():
                self._connection.execute(";\n".join(kept))

    def _store(self, batch: WriteBatch) -> None:
        journal, outbox, opened = batch.journal, batch.outbox, batch.opened
        closed, changed = batch.closed, batch.changed
        large = batch.bulk or len(journal) >= _COPY_ROWS_MIN
        if large and self._sql.copy_allowed is None:
            # A unit of work's first large write (an import batch) may come before any write
            # session of the engine asked: ask once, on this connection (same role).
            self._sql.copy_allowed = self.copy_allowed()
        self._send_kept()
        if large and self._sql.copy_allowed:
            self._copy(self._sql.copy_transfers, journal)
            self._copy(self._sql.copy_outbox, outbox)
            journal, outbox = [], []
        params: list[Any] = []
        for part in (journal, outbox, opened):
            if part:
                params.extend(_columns(part) if large else _flatten(part))
        if closed:
            params.extend((self._tenant_id, closed))
        if changed:
            params.extend(_columns(changed) if large else _flatten(changed))
            params.append(self._tenant_id)
        if params:
            sql = self._sql.write(
                len(journal), len(outbox), len(opened), len(closed), len(changed), arrays=large
            )
            self._connection.execute(sql, params)

    def copy_rows(
        self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> bool:
        """COPY ``rows`` (values in ``columns`` order, as the driver binds them) into a tenant
        table of a service, in this transaction; False, writing nothing, where row security
        applies to the role (it does alike to every tenant table: migration 0010)."""
        if self._sql.copy_allowed is None:
            self._sql.copy_allowed = self.copy_allowed()
        if not self._sql.copy_allowed:
            return False
        self._send_kept()
        try:
            self._copy(self._sql.copy_of(table, columns), rows)
        except psycopg.Error as error:
            if sqlstate(error) == UNIQUE_VIOLATION:
                raise DuplicateIdError(str(error)) from error
            raise
        return True

    def copy_allowed(self) -> bool:
        """Whether COPY FROM may write the journal and outbox on this connection's role (row
        security does not apply to it), as ``PostgresStatements.copy_allowed`` caches."""
        row = self._connection.execute(self._sql.copy_allowed_query).fetchone()
        return bool(row and row[0])

    def _open(self, opened: AccountsOpened) -> set[str]:
        self._send_kept()
        rows = self._connection.execute(
            _OPEN_ACCOUNTS,
            {
                "ids": opened.account_ids,
                "event_ids": opened.event_ids(),
                "tenant": self._tenant_id,
                "asset": opened.asset_code,
                "now": opened.created_at,
                "managed_by": opened.managed_by,
                "payload": opened.payload,
            },
        ).fetchall()
        return {row[0] for row in rows}

    def _copy(self, statement: tuple[str, list[str]], rows: Sequence[Sequence[Any]]) -> None:
        sql, types = statement
        with self._connection.cursor().copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self._connection.commit()
        self.committed = True


# ---------------------------------------------------------------------------------------------
