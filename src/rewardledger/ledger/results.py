"""What the engine returns: write results, history pages, balances and integrity reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rewardledger.domain.errors import LedgerError
from rewardledger.domain.money import Amount
from rewardledger.domain.transfers import Transfer


class TransferResult:
    """The outcome of one write: the journal row, or the error that refused it.

    ``replayed`` is true when the id had been used before and this is the stored first result;
    ``dry_run`` is true when nothing was written. The ``Transfer`` of a fresh write is built
    only when read: a batch of thousands whose caller checks ``ok`` does not pay for it.
    """

    __slots__ = ("_build", "_transfer", "dry_run", "error", "id", "replayed")

    def __init__(
        self,
        id: str,
        transfer: Transfer | None,
        error: LedgerError | None,
        *,
        replayed: bool = False,
        dry_run: bool = False,
        build: Callable[[], Transfer] | None = None,
    ) -> None:
        assert (transfer is None) or (build is None)
        self.id = id
        self.error = error
        self.replayed = replayed
        self.dry_run = dry_run
        self._transfer = transfer
        self._build = build

    @property
    def transfer(self) -> Transfer | None:
        if self._build is not None:
            self._transfer = self._build()
            self._build = None
        return self._transfer

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        outcome = "ok" if self.error is None else self.error.code
        return f"TransferResult(id={self.id!r}, {outcome}, replayed={self.replayed})"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One journal row seen from one account, newest first in a page."""

    seq: int
    transfer: Transfer
    side: str
    posted_change: Amount
    pending_change: Amount
    balance_after: Amount


@dataclass(frozen=True, slots=True)
class HistoryPage:
    account_id: str
    entries: list[HistoryEntry]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class BalanceView:
    """An account's balances now, or its posted balance as of ``at`` (by effective time)."""

    account_id: str
    asset_code: str
    at: datetime | None
    posted: Amount
    available: Amount | None
    pending_debits: Amount | None
    pending_credits: Amount | None


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One way in which materialized data disagrees with the journal."""

    check: str
    subject: str
    field: str | None = None
    journal: str | None = None
    materialized: str | None = None


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """``discrepancies`` lists the first ``REPORT_DISCREPANCIES_MAX``; ``discrepancy_count``
    counts them all."""

    tenant_id: str
    checked_at: datetime
    accounts_checked: int
    discrepancies: list[Discrepancy] = field(default_factory=list)
    discrepancy_count: int = 0

    @property
    def ok(self) -> bool:
        return self.discrepancy_count == 0


@dataclass(frozen=True, slots=True)
class RepairReport:
    tenant_id: str
    repair_id: str
    actor: str
    started_at: datetime
    finished_at: datetime
    accounts_checked: int
    changes: list[Discrepancy] = field(default_factory=list)
    change_count: int = 0
