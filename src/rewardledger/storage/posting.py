"""The write path of the journal: one transaction that locks, checks, appends and commits.

Owns: the statements the ledger engine runs for every transfer, and their execution.
Protects invariants 2 and 3 under concurrency: accounts are locked before they are read
(``SELECT ... ORDER BY account_id FOR UPDATE`` on PostgreSQL, one writer at a time on SQLite),
and the journal rows, the new account totals, holds and outbox events are written in the same
transaction, or none of them is.

Why not plain SQLAlchemy ``Connection.execute`` here: the statements are generated from the
Core tables in ``schema.py``, but they run on the driver connection. On PostgreSQL every change
of a write is one statement (data-modifying CTEs: the journal, the outbox, holds and account
totals), so one transfer takes four round trips (BEGIN, lock, write, COMMIT) where
statement-by-statement execution took eight; a small write binds its rows as scalar VALUES,
a large one COPYs its journal and outbox rows and passes the rest as arrays. On SQLite the same
steps run with execute and executemany. Measured against a plain psycopg transfer in
``bench/``; see docs/performance.md.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Protocol

import uuid_utils
from psycopg import Connection as PgConnection
from psycopg import OperationalError as PgOperationalError
from psycopg.types.json import Jsonb
from sqlalchemy import Column, Engine, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError

from rewardledger.domain.accounts import AccountState
from rewardledger.domain.errors import DuplicateIdError, RetryableError
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.transfers import Accepted, PendingRow, Phase, RefusedRow
from rewardledger.storage import schema
from rewardledger.storage.engine import is_retryable, sqlstate

TRANSFER_COLUMNS = [c.name for c in schema.transfers.columns]
ACCOUNT_TOTALS = (
    "debits_pending",
    "debits_posted",
    "credits_pending",
    "credits_posted",
    "entry_count",
)
OUTBOX_COLUMNS = ["tenant_id", "event_id", "event_type", "subject_id", "payload", "created_at"]
HOLD_COLUMNS = ["tenant_id", "transfer_id", "expires_at"]
ACCOUNT_VALUES = [*ACCOUNT_TOTALS, "updated_at", "account_id"]
_LOCK_COLUMNS = ("account_id", "asset_code", "no_negative", *ACCOUNT_TOTALS)
_PENDING_COLUMNS = (
    "transfer_id",
    "asset_code",
    "amount_minor",
    "debit_account_id",
    "credit_account_id",
    "kind",
    "reason",
    "expires_at",
)
_UNIQUE_VIOLATION = "23505"


def new_event_id() -> str:
    """A time-ordered UUIDv7, so outbox rows sort roughly in the order they were written."""
    return str(uuid_utils.uuid7())


class _Codec:
    """Converts instants and JSON documents to what the driver stores, as SQLAlchemy would."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        # dialect_impl() gives the dialect's own type (e.g. SQLite's text DATETIME), whose
        # processors are the ones SQLAlchemy itself applies on this engine.
        time_type = schema.transfers.c.created_at.type.dialect_impl(dialect)
        bool_type = schema.accounts.c.no_negative.type.dialect_impl(dialect)
        self.time_in = _processor(time_type.bind_processor(dialect))
        self.time_out = _processor(time_type.result_processor(dialect, None))
        self.bool_out = _processor(bool_type.result_processor(dialect, None))
        if dialect.name == "postgresql":
            self.json_in: Callable[[Any], Any] = lambda v: None if v is None else Jsonb(v)
        else:
            self.json_in = lambda v: None if v is None else json.dumps(v, sort_keys=True)


def _processor(function: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return function if function is not None else (lambda value: value)


class _Rows:
    """Builds the rows of one write in the column order of ``schema.transfers``."""

    def __init__(self, codec: _Codec, tenant_id: str) -> None:
        self.codec = codec
        self.tenant_id = tenant_id

    def transfers(
        self,
        accepted: Sequence[Accepted],
        refused: Sequence[RefusedRow],
        now: datetime,
        cycle_tag: Callable[[datetime], str],
    ) -> list[tuple[Any, ...]]:
        json_in, tenant_id = self.codec.json_in, self.tenant_id
        created_at = self.codec.time_in(now)

        def time_in(instant: datetime) -> Any:
            # Most rows take effect now: convert that instant once per write.
            return created_at if instant == now else self.codec.time_in(instant)

        tags: dict[datetime, str] = {}

        def tag(instant: datetime) -> str:
            found = tags.get(instant)
            if found is None:
                found = tags[instant] = cycle_tag(instant)
            return found

        rows: list[tuple[Any, ...]] = [
            (
                tenant_id,
                a.id,
                a.phase.value,
                a.kind,
                a.reason,
                a.asset_code,
                a.amount_minor,
                a.debit_account_id,
                a.credit_account_id,
                a.pending_id,
                None if a.expires_at is None else time_in(a.expires_at),
                time_in(a.effective_at),
                created_at,
                tag(a.effective_at),
                a.debit_entry_seq,
                a.credit_entry_seq,
                a.debit_balance_after_minor,
                a.credit_balance_after_minor,
                json_in(a.metadata or None),
                None,
                None,
            )
            for a in accepted
        ]
        rows.extend(
            (
                tenant_id,
                r.id,
                r.phase,
                r.kind,
                r.reason,
                r.asset_code,
                r.amount_minor,
                r.debit_account_id,
                r.credit_account_id,
                r.pending_id,
                None,
                time_in(r.effective_at),
                created_at,
                tag(r.effective_at),
                None,
                None,
                None,
                None,
                None,
                r.error_code,
                json_in(r.rejection),
            )
            for r in refused
        )
        return rows

    def accounts(self, states: Sequence[AccountState], now: datetime) -> list[tuple[Any, ...]]:
        """New totals per account, in ``ACCOUNT_VALUES`` order (the tenant is bound apart)."""
        updated_at = self.codec.time_in(now)
        return [
            (
                s.debits_pending,
                s.debits_posted,
                s.credits_pending,
                s.credits_posted,
                s.entry_count,
                updated_at,
                s.id,
            )
            for s in states
        ]

    def holds(self, accepted: Sequence[Accepted]) -> tuple[list[tuple[Any, ...]], list[str]]:
        """Holds to open and to close. A hold opened and closed by one write is neither: the
        parts of a write cannot see each other's rows."""
        time_in = self.codec.time_in
        closed = {a.pending_id for a in accepted if a.pending_id is not None}
        opened_ids = {a.id for a in accepted if a.phase is Phase.PENDING}
        opened = [
            (
                self.tenant_id,
                a.id,
                None if a.expires_at is None else time_in(a.expires_at),
            )
            for a in accepted
            if a.phase is Phase.PENDING and a.id not in closed
        ]
        return opened, sorted(closed - opened_ids)

    def events(self, events: Sequence[OutboxEvent], now: datetime) -> list[tuple[Any, ...]]:
        created_at, json_in = self.codec.time_in(now), self.codec.json_in
        return [
            (
                self.tenant_id,
                new_event_id(),
                e.event_type,
                e.subject_id,
                json_in(e.payload),
                created_at,
            )
            for e in events
        ]


def _pending_row(codec: _Codec, row: Sequence[Any]) -> PendingRow:
    expires_at = row[7]
    return PendingRow(
        id=row[0],
        asset_code=row[1],
        amount_minor=row[2],
        debit_account_id=row[3],
        credit_account_id=row[4],
        kind=row[5],
        reason=row[6],
        expires_at=None if expires_at is None else codec.time_out(expires_at),
    )


def _state(codec: _Codec, row: Sequence[Any]) -> AccountState:
    return AccountState(
        row[0], row[1], bool(codec.bool_out(row[2])), row[3], row[4], row[5], row[6], row[7]
    )


# ---------------------------------------------------------------------------------------------
class _ReadStatements(Protocol):
    lock: str
    pending_rows: str
    open_holds: str
    resolutions: str


class _Session:
    """What both engines' write sessions share: the reads, built on each one's ``_query``."""

    _sql: _ReadStatements
    _codec: _Codec
    committed: bool

    def _query(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def lock_accounts(self, account_ids: Sequence[str]) -> dict[str, AccountState]:
        rows = self._query(self._sql.lock, account_ids)
        return {row[0]: _state(self._codec, row) for row in rows}

    def pending_rows(self, pending_ids: Sequence[str]) -> dict[str, PendingRow]:
        rows = self._query(self._sql.pending_rows, pending_ids)
        return {row[0]: _pending_row(self._codec, row) for row in rows}

    def open_holds(self, pending_ids: Sequence[str]) -> set[str]:
        return {row[0] for row in self._query(self._sql.open_holds, pending_ids)}

    def resolutions(self, pending_ids: Sequence[str]) -> dict[str, str]:
        return {row[0]: row[1] for row in self._query(self._sql.resolutions, pending_ids)}


# ---------------------------------------------------------------------------------------------
# PostgreSQL: one statement for all the changes of a write; COPY for large ones.


def _pg_type(column: Column[Any], dialect: Dialect) -> str:
    return str(column.type.dialect_impl(dialect).compile(dialect=dialect))


def _pg_copy(table: Table, columns: Sequence[str], dialect: Dialect) -> tuple[str, list[str]]:
    """A binary COPY statement for ``columns`` and the PostgreSQL type of each column."""
    types = [_pg_type(table.c[name], dialect).split("(")[0].lower() for name in columns]
    names = ", ".join(columns)
    return f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)", types


class _PostgresStatements:
    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self.lock = (
            f"SELECT {', '.join(_LOCK_COLUMNS)} FROM accounts "
            "WHERE tenant_id = %s AND account_id = ANY(%s) ORDER BY account_id FOR UPDATE"
        )
        self.pending_rows = (
            f"SELECT {', '.join(_PENDING_COLUMNS)} FROM transfers "
            "WHERE tenant_id = %s AND transfer_id = ANY(%s) "
            "AND phase = 'pending' AND error_code IS NULL"
        )
        self.open_holds = (
            "SELECT transfer_id FROM holds WHERE tenant_id = %s AND transfer_id = ANY(%s)"
        )
        self.resolutions = (
            "SELECT pending_id, transfer_id FROM transfers "
            "WHERE tenant_id = %s AND pending_id = ANY(%s) AND error_code IS NULL"
        )
        self.copy_transfers = _pg_copy(schema.transfers, TRANSFER_COLUMNS, dialect)
        self.copy_outbox = _pg_copy(schema.outbox, OUTBOX_COLUMNS, dialect)
        self._writes: dict[tuple[int, int, int, int, int, bool], str] = {}

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
                casts = ", ".join(
                    f"%s::{_pg_type(table.c[name], self._dialect)}[]" for name in columns
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


# From this many journal rows on, COPY beats an INSERT of unnest() arrays (measured: about
# 10 ms against 20 ms for 1,000 rows) although it takes two more round trips.
_COPY_ROWS_MIN = 64


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows to one list per column, for unnest()."""
    return [list(column) for column in zip(*rows, strict=True)]


def _flatten(rows: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Rows to one flat parameter list, for VALUES."""
    return [value for row in rows for value in row]


class PostgresWriteSession(_Session):
    """Round trips of a write: BEGIN, the lock, one statement for all changes (after COPYing
    the journal and outbox when the write is large), COMMIT."""

    _sql: _PostgresStatements

    def __init__(
        self,
        connection: PgConnection[Any],
        statements: _PostgresStatements,
        codec: _Codec,
        tenant_id: str,
    ) -> None:
        self._connection = connection
        self._sql = statements
        self._codec = codec
        self._rows = _Rows(codec, tenant_id)
        self._tenant_id = tenant_id
        self.committed = False

    def _query(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, (self._tenant_id, list(ids))).fetchall()

    def write(
        self,
        accepted: Sequence[Accepted],
        refused: Sequence[RefusedRow],
        accounts: Sequence[AccountState],
        events: Sequence[OutboxEvent],
        now: datetime,
        cycle_tag: Callable[[datetime], str],
    ) -> None:
        rows = self._rows
        journal = rows.transfers(accepted, refused, now, cycle_tag)
        outbox = rows.events(events, now)
        opened, closed = rows.holds(accepted)
        changed = rows.accounts(accounts, now)
        large = len(journal) >= _COPY_ROWS_MIN
        if large:
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

    def _copy(self, statement: tuple[str, list[str]], rows: Sequence[tuple[Any, ...]]) -> None:
        sql, types = statement
        with self._connection.cursor().copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self._connection.commit()
        self.committed = True


# ---------------------------------------------------------------------------------------------
# SQLite: one writer at a time (BEGIN IMMEDIATE), executemany.


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _sqlite_insert(table: Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))})"


class _SqliteStatements:
    def __init__(self) -> None:
        totals = ", ".join(f"{name} = ?" for name in (*ACCOUNT_TOTALS, "updated_at"))
        self.lock = (
            f"SELECT {', '.join(_LOCK_COLUMNS)} FROM accounts "
            "WHERE tenant_id = ? AND account_id IN ({}) ORDER BY account_id"
        )
        self.pending_rows = (
            f"SELECT {', '.join(_PENDING_COLUMNS)} FROM transfers "
            "WHERE tenant_id = ? AND transfer_id IN ({}) "
            "AND phase = 'pending' AND error_code IS NULL"
        )
        self.open_holds = (
            "SELECT transfer_id FROM holds WHERE tenant_id = ? AND transfer_id IN ({})"
        )
        self.resolutions = (
            "SELECT pending_id, transfer_id FROM transfers "
            "WHERE tenant_id = ? AND pending_id IN ({}) AND error_code IS NULL"
        )
        self.insert_transfers = _sqlite_insert(schema.transfers, TRANSFER_COLUMNS)
        self.update_accounts = (
            f"UPDATE accounts SET {totals} WHERE account_id = ? AND tenant_id = ?"
        )
        self.insert_holds = _sqlite_insert(schema.holds, HOLD_COLUMNS)
        self.delete_holds = "DELETE FROM holds WHERE tenant_id = ? AND transfer_id = ?"
        self.insert_outbox = _sqlite_insert(schema.outbox, OUTBOX_COLUMNS)


# SQLite's limit on bound parameters per statement is 32,766; stay well below it.
_SQLITE_IDS_PER_QUERY = 10_000


class SqliteWriteSession(_Session):
    _sql: _SqliteStatements

    def __init__(
        self, connection: Any, statements: _SqliteStatements, codec: _Codec, tenant_id: str
    ) -> None:
        self._connection = connection
        self._sql = statements
        self._codec = codec
        self._rows = _Rows(codec, tenant_id)
        self._tenant_id = tenant_id
        self.committed = False

    def _query(self, template: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _SQLITE_IDS_PER_QUERY):
            chunk = list(ids[start : start + _SQLITE_IDS_PER_QUERY])
            cursor = self._connection.execute(
                template.format(_placeholders(len(chunk))), (self._tenant_id, *chunk)
            )
            found.extend(cursor.fetchall())
        return found

    def write(
        self,
        accepted: Sequence[Accepted],
        refused: Sequence[RefusedRow],
        accounts: Sequence[AccountState],
        events: Sequence[OutboxEvent],
        now: datetime,
        cycle_tag: Callable[[datetime], str],
    ) -> None:
        rows = self._rows
        journal = rows.transfers(accepted, refused, now, cycle_tag)
        if journal:
            self._many(self._sql.insert_transfers, journal)
        if accounts:
            self._many(
                self._sql.update_accounts,
                [(*row, self._tenant_id) for row in rows.accounts(accounts, now)],
            )
        opened, closed = rows.holds(accepted)
        if opened:
            self._many(self._sql.insert_holds, opened)
        if closed:
            self._many(self._sql.delete_holds, [(self._tenant_id, c) for c in closed])
        if events:
            self._many(self._sql.insert_outbox, rows.events(events, now))

    def _many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        # executemany costs more than execute for the one row of a single transfer.
        if len(rows) == 1:
            self._connection.execute(sql, rows[0])
        else:
            self._connection.executemany(sql, rows)

    def commit(self) -> None:
        self._connection.execute("COMMIT")
        self.committed = True


# ---------------------------------------------------------------------------------------------


class WriteSessions:
    """Opens write sessions: on PostgreSQL on the engine's pooled driver connections; on SQLite
    on one connection per thread, kept open, since a SQLite connection is cheap to hold and the
    pool's checkout and return cost about as much as the rest of a transfer in Python."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._codec = _Codec(engine.dialect)
        self._postgres = engine.dialect.name == "postgresql"
        self._pg_sql = _PostgresStatements(engine.dialect) if self._postgres else None
        self._sqlite_sql = None if self._postgres else _SqliteStatements()
        self._local = threading.local()
        self._held: list[Any] = []
        self._held_lock = threading.Lock()

    def close(self) -> None:
        """Close the per-thread SQLite connections (the pool closes the others)."""
        with self._held_lock:
            for connection in self._held:
                connection.close()
            self._held.clear()
        self._local = threading.local()

    def within(self, driver: Any, tenant_id: str) -> PostgresWriteSession | SqliteWriteSession:
        """A session on ``driver``, a connection whose transaction someone else opened and
        will commit (a unit of work): its ``commit`` must not be called."""
        if self._pg_sql is not None:
            return PostgresWriteSession(driver, self._pg_sql, self._codec, tenant_id)
        assert self._sqlite_sql is not None
        return SqliteWriteSession(driver, self._sqlite_sql, self._codec, tenant_id)

    def open(self, tenant_id: str) -> AbstractContextManager[Any]:
        if self._pg_sql is not None:
            return self._open_postgres(self._pg_sql, tenant_id)
        assert self._sqlite_sql is not None
        return self._open_sqlite(self._sqlite_sql, tenant_id)

    @contextmanager
    def _open_postgres(
        self, statements: _PostgresStatements, tenant_id: str
    ) -> Iterator[PostgresWriteSession]:
        raw = self._engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            if driver.broken:
                # Pooled connections are not pinged on checkout (a round trip per write);
                # a connection the server dropped is found here or fails and is retried.
                raw.invalidate()
                raw = self._engine.raw_connection()
                driver = raw.driver_connection
            with translated_errors():
                session = PostgresWriteSession(driver, statements, self._codec, tenant_id)
                try:
                    yield session
                finally:
                    if not session.committed and not driver.closed:
                        driver.rollback()
        finally:
            raw.close()

    @contextmanager
    def _open_sqlite(
        self, statements: _SqliteStatements, tenant_id: str
    ) -> Iterator[SqliteWriteSession]:
        driver: Any = getattr(self._local, "connection", None)
        if driver is None:
            proxy = self._engine.raw_connection()
            driver = proxy.driver_connection
            proxy.detach()  # ours from now on: the pool neither reuses nor resets it
            self._local.connection = driver
            with self._held_lock:
                self._held.append(proxy)
        with translated_errors():
            driver.execute("BEGIN IMMEDIATE")
            session = SqliteWriteSession(driver, statements, self._codec, tenant_id)
            try:
                yield session
            finally:
                if not session.committed and driver.in_transaction:
                    driver.execute("ROLLBACK")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn the driver's duplicate-id and contention errors into the ledger's port errors."""
    try:
        yield
    except Exception as error:
        if isinstance(error, DBAPIError) and error.orig is not None:
            # A service's statement, run through SQLAlchemy: judge the driver's error.
            if error.connection_invalidated or is_retryable(error):
                raise RetryableError(str(error.orig)) from error
            if sqlstate(error) == _UNIQUE_VIOLATION or (
                isinstance(error, IntegrityError)
                and ("unique constraint failed" in str(error.orig).lower())
            ):
                raise DuplicateIdError(str(error.orig)) from error
            raise
        if is_retryable(error) or isinstance(error, PgOperationalError):
            raise RetryableError(str(error)) from error
        taken = _journal_key_taken(error)
        if taken == "transfer_id":
            raise DuplicateIdError(str(error)) from error
        if taken == "pending_id":
            # A concurrent resolution of the same pending transfer won; on retry its hold is
            # gone and this one is refused as not_pending.
            raise RetryableError(str(error)) from error
        raise


def _journal_key_taken(error: BaseException) -> str | None:
    """Which unique journal key a write collided with: "transfer_id", "pending_id" or None."""
    state = sqlstate(error)
    if state is not None:
        if state != _UNIQUE_VIOLATION:
            return None
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        return _TAKEN_BY_CONSTRAINT.get(constraint or "")
    return _TAKEN_BY_SQLITE_MESSAGE.get(str(error))


# A hold is keyed by its pending transfer's id, and the parts of one PostgreSQL write run in no
# fixed order, so a replayed pending transfer may collide on the hold before the journal row.
_TAKEN_BY_CONSTRAINT = {
    "pk_transfers": "transfer_id",
    "pk_holds": "transfer_id",
    "ix_transfers_one_resolution": "pending_id",
}
_TAKEN_BY_SQLITE_MESSAGE = {
    "UNIQUE constraint failed: transfers.tenant_id, transfers.transfer_id": "transfer_id",
    "UNIQUE constraint failed: holds.tenant_id, holds.transfer_id": "transfer_id",
    "UNIQUE constraint failed: transfers.tenant_id, transfers.pending_id": "pending_id",
}
