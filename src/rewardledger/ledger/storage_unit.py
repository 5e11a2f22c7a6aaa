"""The transaction handle that crosses every storage port: ``ReadUnit`` and ``StorageUnit``.

Owns: the one type a service passes to its store so that the store's statements join the
service's transaction (CONVENTIONS.md, rule 17). A service never looks inside it; its store
(``rewardledger.storage.unit``) narrows it back to its SQLAlchemy connection, checked.

    WriteSession    the journal's statements inside a write transaction (``ledger.posting``);
                    what one of its writes writes is a ``JournalWrite``
    ReadUnit        a transaction that reads one state of the database (a read snapshot)
    └── StorageUnit one write transaction on one tenant, shared by the journal and the
                    service's tables; nothing is kept unless ``commit`` is called
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rewardledger.domain.accounts import AccountState
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.transfers import Accepted, PendingRow, RefusedRow


@dataclass(frozen=True, slots=True)
class JournalWrite:
    """What one ``WriteSession.write`` writes at ``now``: the accepted transfers and the
    refused ones kept, the new totals of the ``accounts`` they touch, and the ``events``;
    ``cycle_tag`` tags each row with its cycle."""

    accepted: Sequence[Accepted]
    refused: Sequence[RefusedRow]
    accounts: Sequence[AccountState]
    events: Sequence[OutboxEvent]
    now: datetime
    cycle_tag: Callable[[datetime], str]


class WriteSession(Protocol):
    """One write transaction on one tenant. Nothing is kept unless ``commit`` is called.

    Raises ``DuplicateIdError`` when a written id exists already and ``RetryableError`` on
    contention (both from ``rewardledger.domain.errors``).
    """

    def lock_accounts(self, account_ids: Sequence[str]) -> dict[str, AccountState]: ...

    def pending_rows(self, pending_ids: Sequence[str]) -> dict[str, PendingRow]: ...

    def open_holds(self, pending_ids: Sequence[str]) -> set[str]: ...

    def resolutions(self, pending_ids: Sequence[str]) -> dict[str, str]: ...

    def open_accounts(
        self, account_ids: Sequence[str], asset_code: str, managed_by: str | None, now: datetime
    ) -> dict[str, AccountState]:
        """Open the missing ones of ``account_ids`` (each with its ``account.created`` event)
        in a few statements whatever their number; return those that existed, unlocked."""
        ...

    def write(self, journal: JournalWrite, *, bulk: bool = False) -> None:
        """Append the rows, write the totals and events. ``bulk``: a service's large batch
        (``ledger.bulk``), written the way large writes are (COPY on PostgreSQL) whatever its
        size, so that its statements do not depend on its size."""
        ...

    def commit(self) -> None: ...


class ReadUnit(Protocol):
    """A transaction on one tenant whose reads all see one state of the database."""

    @property
    def tenant_id(self) -> str: ...


class StorageUnit(ReadUnit, Protocol):
    """One write transaction on one tenant: the journal's ``session`` and a service's tables.

    Leaving its context without ``commit`` rolls everything back (rule 9).
    """

    @property
    def session(self) -> WriteSession: ...

    def write_events(self, events: Sequence[OutboxEvent], now: datetime) -> None: ...

    def commit(self) -> None: ...
