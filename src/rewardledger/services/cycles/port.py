"""The cycle services' port: what they need of storage, and how a ledger hands it to them.

Owns: the ``CycleStore`` Protocol (implemented by ``storage.cycles.SqlCycleStore`` and wired
in ``bootstrap``) and the ``STORE`` port. Protects: every write method takes the unit of work
whose transaction it joins, so a movement, its dirty mark and its rows commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from rewardledger.domain.cycle_batches import CashbackBatch, DebtBatch
from rewardledger.domain.cycle_writes import AccrualLock, MissingAccounts, ReversalWrite
from rewardledger.domain.cycles import (
    CashbackAccountSettings,
    CashbackMovement,
    CashbackProgram,
    CashbackRow,
    CashbackTotals,
    DebtMovement,
    DebtProgram,
    DebtRow,
    DebtTotals,
    DirtyMark,
    LedgerFilter,
    LedgerName,
    PairTotals,
    RefreshMode,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit

Pair = tuple[str, str]
Progress = Callable[[int], None]


class CycleStore(Protocol):
    """What the cycle services need of storage (implemented in ``storage.cycles``).

    Methods taking ``unit`` run in that unit of work's transaction; with ``unit=None`` they
    read on a connection of their own.
    """

    def get_refresh_mode(self, tenant_id: str, unit: ReadUnit | None = None) -> RefreshMode: ...
    def put_refresh_mode(self, unit: StorageUnit, mode: RefreshMode, now: datetime) -> None: ...
    def get_cashback_program(
        self, tenant_id: str, unit: ReadUnit | None = None
    ) -> CashbackProgram | None: ...
    def put_cashback_program(
        self, unit: StorageUnit, program: CashbackProgram, now: datetime
    ) -> None: ...
    def get_cashback_account(
        self, tenant_id: str, account_id: str, unit: ReadUnit | None = None
    ) -> CashbackAccountSettings | None: ...
    def put_cashback_account(
        self, unit: StorageUnit, settings: CashbackAccountSettings, now: datetime
    ) -> None: ...
    def cashback_accounts_settings(
        self, unit: StorageUnit, account_ids: Sequence[str]
    ) -> dict[str, CashbackAccountSettings]: ...
    def get_debt_program(
        self, tenant_id: str, unit: ReadUnit | None = None
    ) -> DebtProgram | None: ...
    def put_debt_program(self, unit: StorageUnit, program: DebtProgram, now: datetime) -> None: ...

    def mark_dirty(
        self, unit: StorageUnit, ledger: LedgerName, holder_id: str, tag: str
    ) -> DirtyMark: ...
    def take_dirty(self, unit: StorageUnit, limit: int) -> list[DirtyMark]: ...
    def clear_dirty(self, unit: StorageUnit, mark: DirtyMark) -> None: ...
    def count_dirty(
        self, tenant_id: str, ledger: LedgerName | None = None, pair: Pair | None = None
    ) -> int: ...
    def mark_due(
        self, unit: StorageUnit, closing_tags: Sequence[str], overdue_before: datetime
    ) -> int: ...
    def open_cashback_tags(self, tenant_id: str, unit: StorageUnit) -> list[str]: ...
    def lock_projection(self, unit: StorageUnit, *, exclusive: bool) -> None: ...

    def get_cashback_movement(
        self, unit: StorageUnit, movement_id: str
    ) -> CashbackMovement | None: ...
    def insert_cashback_movement(self, unit: StorageUnit, movement: CashbackMovement) -> None: ...
    def lock_cashback_pair(self, unit: StorageUnit, lock: AccrualLock) -> PairTotals | None: ...
    def store_accrual(
        self, unit: StorageUnit, movement: CashbackMovement, after: PairTotals, token: str
    ) -> None: ...
    def rebuild_cashback_totals(self, unit: StorageUnit) -> None: ...
    def reverse_cashback_movement(
        self, unit: StorageUnit, reversal: ReversalWrite
    ) -> tuple[CashbackMovement, bool, RefreshMode]: ...
    def get_debt_movement(self, unit: StorageUnit, movement_id: str) -> DebtMovement | None: ...
    def record_debt_movement(
        self, unit: StorageUnit, movement: DebtMovement, token: str, accounts: MissingAccounts
    ) -> tuple[DebtMovement | None, RefreshMode]: ...
    def insert_debt_movement(self, unit: StorageUnit, movement: DebtMovement) -> None: ...

    def cashback_totals(self, unit: StorageUnit, account_id: str, tag: str) -> CashbackTotals: ...
    def cashback_pair_totals(
        self, unit: StorageUnit, after: Pair | None, limit: int
    ) -> list[tuple[str, str, CashbackTotals]]: ...
    def debt_totals(self, unit: StorageUnit, person_id: str, tag: str) -> DebtTotals: ...
    def debt_pair_totals(
        self, unit: StorageUnit, after: Pair | None, limit: int
    ) -> list[tuple[str, str, DebtTotals]]: ...
    def cashback_cycles_of(self, unit: StorageUnit, account_id: str) -> list[str]: ...
    def previous_debt_net(self, unit: StorageUnit, person_id: str, tag: str) -> int: ...
    def next_debt_cycle(self, unit: StorageUnit, person_id: str, tag: str) -> str | None: ...
    def count_pairs(self, tenant_id: str) -> int: ...

    def cashback_rows(
        self, unit: ReadUnit | None, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, CashbackRow]: ...
    def debt_rows(
        self, unit: ReadUnit | None, tenant_id: str, low: Pair, high: Pair
    ) -> dict[Pair, DebtRow]: ...
    def upsert_cashback_rows(
        self, unit: StorageUnit, rows: Sequence[CashbackRow], now: datetime
    ) -> None: ...
    def upsert_debt_rows(
        self, unit: StorageUnit, rows: Sequence[DebtRow], now: datetime
    ) -> None: ...

    # A rebuild batch in one statement, where the engine can (``rebuilds_in_sets``).
    @property
    def rebuilds_in_sets(self) -> bool: ...
    def cashback_pairs_after(
        self, unit: StorageUnit, after: Pair | None, limit: int
    ) -> list[Pair]: ...
    def debt_pairs_after(self, unit: StorageUnit, after: Pair | None, limit: int) -> list[Pair]: ...
    def write_cashback_batch(self, unit: StorageUnit, batch: CashbackBatch) -> int: ...
    def write_debt_batch(self, unit: StorageUnit, batch: DebtBatch) -> tuple[int, int]: ...

    def list_cashback_rows(
        self, tenant_id: str, where: LedgerFilter, after: Pair | None, limit: int
    ) -> list[tuple[CashbackRow, datetime]]: ...
    def list_debt_rows(
        self, tenant_id: str, where: LedgerFilter, after: Pair | None, limit: int
    ) -> list[tuple[DebtRow, datetime]]: ...
    def debt_sums(self, tenant_id: str, limit: int) -> tuple[list[tuple[str, str, int]], int]: ...


STORE: Port[CycleStore] = Port("cycles")


def store_of(ledger: Ledger) -> CycleStore:
    return ledger.extension(STORE)
