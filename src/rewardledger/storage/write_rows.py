"""The rows of one journal write, and the reads both engines' write sessions share.

Owns: the column orders of a write (journal, account totals, holds, outbox), the conversion of
instants and JSON to what each driver stores, and the locked reads a write begins with.
Protects invariant 2: account totals are read under lock and written back whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import uuid_utils
from psycopg.types.json import Jsonb
from sqlalchemy.engine import Dialect

from rewardledger.domain.accounts import AccountState
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.transfers import Accepted, PendingRow, Phase, RefusedRow
from rewardledger.ledger.storage_unit import JournalWrite
from rewardledger.storage import schema
from rewardledger.storage.journal_digest import RowDigests

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
LOCK_COLUMNS = ("account_id", "asset_code", "no_negative", *ACCOUNT_TOTALS, "managed_by")
PENDING_COLUMNS = (
    "transfer_id",
    "asset_code",
    "amount_minor",
    "debit_account_id",
    "credit_account_id",
    "kind",
    "reason",
    "expires_at",
)
UNIQUE_VIOLATION = "23505"
_PHASE_TEXT = {phase: phase.value for phase in Phase}  # an enum's ``.value`` costs a call


def new_event_id() -> str:
    """A time-ordered UUIDv7, so outbox rows sort roughly in the order they were written."""
    return str(uuid_utils.uuid7())


class Codec:
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


class Rows:
    """Builds the rows of one write in the column order of ``schema.transfers``."""

    def __init__(self, codec: Codec, tenant_id: str) -> None:
        self.codec = codec
        self.tenant_id = tenant_id

    def _instants(
        self, now: datetime, cycle_tag: Callable[[datetime], str]
    ) -> tuple[Any, Callable[[datetime], Any], Callable[[datetime], str]]:
        """``now`` as stored, and converters of instants and cycle tags memoised for one write."""
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

        return created_at, time_in, tag

    def transfers(
        self,
        accepted: Sequence[Accepted],
        refused: Sequence[RefusedRow],
        now: datetime,
        cycle_tag: Callable[[datetime], str],
    ) -> list[tuple[Any, ...]]:
        """The journal rows, each as stored and ending with the digest of its content."""
        tenant_id = self.tenant_id
        created_at, time_in, tag = self._instants(now, cycle_tag)
        json_in = self.codec.json_in
        row_digest = RowDigests()  # the bytes of ``journal_digest.row_digest``, faster

        def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
            # ``row`` holds Python values in table order; the digest is taken of those.
            expires_at = row[10]
            return (
                *row[:10],
                None if expires_at is None else time_in(expires_at),
                time_in(row[11]),
                created_at,
                *row[13:18],
                json_in(row[18]),
                row[19],
                json_in(row[20]),
                row_digest(row),
            )

        phases = _PHASE_TEXT
        rows = []
        for a in accepted:  # ``_accepted`` then ``stored``, inline: a batch has thousands
            effective_at, expires_at, metadata = a.effective_at, a.expires_at, a.metadata or None
            values = (
                tenant_id,
                a.id,
                phases[a.phase],
                a.kind,
                a.reason,
                a.asset_code,
                a.amount_minor,
                a.debit_account_id,
                a.credit_account_id,
                a.pending_id,
                expires_at,
                effective_at,
                now,
                tag(effective_at),
                a.debit_entry_seq,
                a.credit_entry_seq,
                a.debit_balance_after_minor,
                a.credit_balance_after_minor,
                metadata,
                None,
                None,
            )
            rows.append(
                (
                    *values[:10],
                    None if expires_at is None else time_in(expires_at),
                    time_in(effective_at),
                    created_at,
                    *values[13:18],
                    None if metadata is None else json_in(metadata),
                    None,
                    None,
                    row_digest(values),
                )
            )
        rows.extend(stored(_refused(tenant_id, r, now, tag(r.effective_at))) for r in refused)
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


def _refused(tenant_id: str, r: RefusedRow, now: datetime, tag: str) -> tuple[Any, ...]:
    """A refused journal row as Python values, in table order (without the digest)."""
    return (
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
        r.effective_at,
        now,
        tag,
        None,
        None,
        None,
        None,
        None,
        r.error_code,
        r.rejection,
    )


def _pending_row(codec: Codec, row: Sequence[Any]) -> PendingRow:
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


def _state(codec: Codec, row: Sequence[Any]) -> AccountState:
    return AccountState(
        row[0], row[1], bool(codec.bool_out(row[2])), row[3], row[4], row[5], row[6], row[7], row[8]
    )


# ---------------------------------------------------------------------------------------------
class ReadStatements(Protocol):
    lock: str
    existing: str
    pending_rows: str
    open_holds: str
    resolutions: str


@dataclass(frozen=True, slots=True)
class AccountsOpened:
    """Accounts to open in one statement or two: ids (sorted), and what they share (instant
    and event payload already in the driver's form)."""

    account_ids: list[str]
    asset_code: str
    managed_by: str | None
    created_at: Any
    payload: Any

    def event_ids(self) -> list[str]:
        return [new_event_id() for _ in self.account_ids]


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """The rows of one write, built once whatever the engine that stores them."""

    journal: list[tuple[Any, ...]]
    outbox: list[tuple[Any, ...]]
    opened: list[tuple[Any, ...]]
    closed: list[str]
    changed: list[tuple[Any, ...]]
    bulk: bool = False  # a service's large batch: written as large writes are, whatever its size


class WriteSessionBase:
    """What both engines' write sessions share: the reads, built on each one's ``_query``,
    and the rows of a write, stored by each one's ``_store``."""

    _sql: ReadStatements

    def __init__(self, codec: Codec, tenant_id: str) -> None:
        self._codec = codec
        self._rows = Rows(codec, tenant_id)
        self._tenant_id = tenant_id
        self.committed = False

    def _query(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _store(self, batch: WriteBatch) -> None:
        raise NotImplementedError

    def _open(self, opened: AccountsOpened) -> set[str]:
        """Insert the accounts of ``opened`` that do not exist, with their events; return
        the ids inserted."""
        raise NotImplementedError

    def open_accounts(
        self, account_ids: Sequence[str], asset_code: str, managed_by: str | None, now: datetime
    ) -> dict[str, AccountState]:
        wanted = sorted(set(account_ids))
        if not wanted:
            return {}
        created = self._codec.time_in(now)
        payload = self._codec.json_in({"asset": asset_code})
        opened = AccountsOpened(wanted, asset_code, managed_by, created, payload)
        inserted = self._open(opened)
        existed = [account_id for account_id in wanted if account_id not in inserted]
        if not existed:
            return {}
        rows = self._query(self._sql.existing, existed)
        return {row[0]: _state(self._codec, row) for row in rows}

    def write(self, journal: JournalWrite, *, bulk: bool = False) -> None:
        rows, now = self._rows, journal.now
        opened, closed = rows.holds(journal.accepted)
        transfers = rows.transfers(journal.accepted, journal.refused, now, journal.cycle_tag)
        changed = rows.accounts(journal.accounts, now)
        outbox = rows.events(journal.events, now)
        self._store(WriteBatch(transfers, outbox, opened, closed, changed, bulk))

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
