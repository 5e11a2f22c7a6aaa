"""Tamper evidence: recompute every journal row's digest, and seal the journal.

Owns: the reads ``verify`` makes to check digests and seals, the accounts the journal names
that are missing, and writing a seal. A seal covers the journal rows and accounts created
after the previous seal's cutoff up to its own; its head chains onto the previous head, so an
exported head pins everything before it. Sealing reads and appends one row: it takes no lock
a writer waits for, and writers never touch the seals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, insert, select, union

from rewardledger.domain.reconciliation import JournalCheck, JournalSeal, SealMismatch
from rewardledger.storage.journal_digest import (
    DIGEST_COLUMNS,
    Segment,
    account_digest,
    chain,
    genesis,
    row_digest,
)
from rewardledger.storage.rows import columns_of
from rewardledger.storage.schema import accounts, journal_seals, transfers
from rewardledger.storage.store_base import StoreConnections

_CONTENT = [transfers.c[name] for name in DIGEST_COLUMNS]
_STREAM_ROWS = 1_000


class SealQueries(StoreConnections):
    def check_journal(self, tenant_id: str) -> JournalCheck:
        """Recompute every row's digest and every seal, from one snapshot."""
        changed: list[str] = []
        with self._snapshot() as connection:
            seals = _seals(connection, tenant_id)
            segments = [Segment() for _ in seals]
            rows = 0
            segment_of = _Segments(segments, seals)
            for row in _journal(connection, tenant_id, None, None):
                digest = row_digest(tuple(row[:-1]))
                if digest != row[-1]:
                    changed.append(row.transfer_id)
                found = segment_of(row.created_at)
                if found is not None:
                    found.add_row(digest)
                rows += 1
            segment_of = _Segments(segments, seals)
            for account in _accounts(connection, tenant_id, None, None):
                found = segment_of(account.created_at)
                if found is not None:
                    found.add_account(
                        account_digest(account[0], account[1], account[2], account[3])
                    )
            missing = _missing_accounts(connection, tenant_id)
        mismatches: list[SealMismatch] = []
        heads: list[str] = []
        head = genesis(tenant_id)
        for seal, segment in zip(seals, segments, strict=True):
            head = chain(head, seal.seal_seq, seal.cutoff_at, segment.digest())
            for name, recomputed in (
                ("rows_count", str(segment.rows)),
                ("accounts_count", str(segment.accounts)),
                ("segment_digest", segment.digest()),
                ("head", head),
            ):
                stored = str(getattr(seal, name))
                if stored != recomputed:
                    mismatches.append(SealMismatch(seal.seal_seq, name, stored, recomputed))
            heads.append(head)
        return JournalCheck(rows, changed, missing, mismatches, heads)

    def seal_journal(self, tenant_id: str, cutoff_at: datetime, now: datetime) -> JournalSeal:
        """Seal what was created up to ``cutoff_at`` since the last seal (maybe nothing)."""
        with self._write() as connection:
            seals = _seals(connection, tenant_id)
            last = seals[-1] if seals else None
            low = None if last is None else last.cutoff_at
            if low is not None and cutoff_at <= low:
                cutoff_at = low  # the clock went back: seal an empty segment at the same cutoff
            segment = Segment()
            for row in _journal(connection, tenant_id, low, cutoff_at):
                segment.add_row(row_digest(tuple(row[:-1])))
            for account in _accounts(connection, tenant_id, low, cutoff_at):
                segment.add_account(account_digest(account[0], account[1], account[2], account[3]))
            seq = 1 if last is None else last.seal_seq + 1
            previous = genesis(tenant_id) if last is None else last.head
            digest = segment.digest()
            seal = JournalSeal(
                tenant_id,
                seq,
                cutoff_at,
                now,
                segment.rows,
                segment.accounts,
                chain(previous, seq, cutoff_at, digest),
            )
            row = {**columns_of(seal), "segment_digest": digest}
            connection.execute(insert(journal_seals).values(row))
        return seal

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection


def _seals(connection: Connection, tenant_id: str) -> list[Row[Any]]:
    query = (
        select(journal_seals)
        .where(journal_seals.c.tenant_id == tenant_id)
        .order_by(journal_seals.c.seal_seq)
    )
    return list(connection.execute(query))


class _Segments:
    """Finds the segment of each instant, called in increasing order: the first seal whose
    cutoff is at or after it (None after the last seal: not sealed yet)."""

    def __init__(self, segments: Sequence[Segment], seals: Sequence[Row[Any]]) -> None:
        self._segments = segments
        self._cutoffs = [seal.cutoff_at for seal in seals]
        self._at = 0

    def __call__(self, created_at: datetime) -> Segment | None:
        while self._at < len(self._cutoffs) and created_at > self._cutoffs[self._at]:
            self._at += 1
        return self._segments[self._at] if self._at < len(self._cutoffs) else None


def _window(column: Any, low: datetime | None, high: datetime | None) -> list[Any]:
    clauses = []
    if low is not None:
        clauses.append(column > low)
    if high is not None:
        clauses.append(column <= high)
    return clauses


def _journal(
    connection: Connection, tenant_id: str, low: datetime | None, high: datetime | None
) -> Iterator[Any]:
    """The journal rows created in (low, high], content then digest, in (instant, id) order."""
    query = (
        select(*_CONTENT, transfers.c.digest)
        .where(transfers.c.tenant_id == tenant_id, *_window(transfers.c.created_at, low, high))
        .order_by(transfers.c.created_at, transfers.c.transfer_id)
    )
    yield from connection.execute(query.execution_options(yield_per=_STREAM_ROWS))


def _accounts(
    connection: Connection, tenant_id: str, low: datetime | None, high: datetime | None
) -> Iterator[Any]:
    query = (
        select(
            accounts.c.account_id,
            accounts.c.asset_code,
            accounts.c.no_negative,
            accounts.c.created_at,
        )
        .where(accounts.c.tenant_id == tenant_id, *_window(accounts.c.created_at, low, high))
        .order_by(accounts.c.created_at, accounts.c.account_id)
    )
    yield from connection.execute(query.execution_options(yield_per=_STREAM_ROWS))


def _missing_accounts(connection: Connection, tenant_id: str) -> list[str]:
    """Accounts an accepted journal row names that do not exist."""
    sides = []
    for column in (transfers.c.debit_account_id, transfers.c.credit_account_id):
        known = exists().where(
            accounts.c.tenant_id == transfers.c.tenant_id, accounts.c.account_id == column
        )
        sides.append(
            select(column.label("account_id")).where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.error_code.is_(None),
                ~known,
            )
        )
    query = union(*sides)
    return sorted(connection.execute(query).scalars())
