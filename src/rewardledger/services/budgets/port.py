"""What the budget service needs of storage: the ``BudgetStore`` Protocol and its ``STORE`` port.

Owns the contract ``storage.budgets.SqlBudgetStore`` implements (wired in
``rewardledger.bootstrap``): every method that writes takes the use case's ``StorageUnit``,
so it commits or rolls back with the journal; reads take a ``ReadUnit`` or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from rewardledger.domain.budgets.policy import BudgetPolicy
from rewardledger.domain.budgets.records import (
    ALL_TIME,
    AccountOpening,
    AlertPosition,
    AlertRecord,
    CorrectionRecord,
    EntryQuery,
    EntryRecord,
    FixRecord,
    KindTotals,
    LockedBudget,
    OwnRows,
    PeriodOpening,
    PeriodRecord,
    ReservationRecord,
    Resolution,
    TimePosition,
    Window,
    WriteKeys,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit


class BudgetStore(Protocol):
    """What the budget service needs of storage (``storage.budgets.SqlBudgetStore``).

    Methods taking ``unit`` run inside that unit of work's transaction; ``unit=None`` reads
    outside any.
    """

    def insert_budget(self, unit: StorageUnit, policy: BudgetPolicy) -> None: ...
    def lock_budget(
        self, unit: StorageUnit, tenant_id: str, budget_id: str
    ) -> tuple[BudgetPolicy, str | None] | None: ...
    def lock_current(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, keys: WriteKeys
    ) -> LockedBudget | None: ...
    def lock_reservation(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, reference: str
    ) -> LockedBudget | None: ...
    def write_own_rows(self, unit: StorageUnit, rows: OwnRows) -> None: ...
    def get_budget(self, tenant_id: str, budget_id: str) -> BudgetPolicy | None: ...
    def list_budgets(self, tenant_id: str, after: str | None, limit: int) -> list[BudgetPolicy]: ...
    def set_current_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str
    ) -> None: ...
    def get_period(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> PeriodRecord | None: ...
    def periods(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str
    ) -> list[PeriodRecord]: ...
    def insert_period(self, unit: StorageUnit, opening: PeriodOpening) -> None: ...
    def set_period_counters(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, **values: int
    ) -> None: ...
    def insert_fix(self, unit: StorageUnit, record: FixRecord) -> None: ...
    def fixes(self, unit: ReadUnit | None, tenant_id: str, budget_id: str) -> list[FixRecord]: ...
    def add_to_period(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, **deltas: int
    ) -> None: ...
    def ensure_account(self, unit: StorageUnit, opening: AccountOpening) -> bool: ...
    def account_totals(
        self, unit: ReadUnit | None, tenant_id: str, account_ids: Sequence[str]
    ) -> dict[str, tuple[int, int, int]]: ...
    def journal_row(
        self, unit: StorageUnit, tenant_id: str, transfer_id: str
    ) -> EntryRecord | None: ...
    def resolution(
        self, unit: StorageUnit, tenant_id: str, pending_id: str
    ) -> Resolution | None: ...
    def get_reservation(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, reference: str
    ) -> ReservationRecord | None: ...
    def insert_reservation(self, unit: StorageUnit, record: ReservationRecord) -> None: ...
    def member_usage(
        self, unit: StorageUnit, tenant_id: str, budget_id: str, period: str, member_key: str
    ) -> tuple[int, int]: ...
    def reservations_total(
        self, unit: ReadUnit | None, tenant_id: str, budget_id: str, period: str
    ) -> int: ...
    def insert_alert_if_absent(
        self, unit: StorageUnit, tenant_id: str, alert: AlertRecord
    ) -> bool: ...
    def alerts(
        self, tenant_id: str, budget_id: str | None, limit: int, before: AlertPosition | None = None
    ) -> list[AlertRecord]: ...
    def corrected_amount(self, unit: StorageUnit, tenant_id: str, reverses_id: str) -> int: ...
    def insert_correction(self, unit: StorageUnit, record: CorrectionRecord) -> None: ...
    def corrections(self, tenant_id: str, budget_id: str) -> list[CorrectionRecord]: ...
    def corrections_page(
        self, tenant_id: str, budget_id: str, after: TimePosition | None, limit: int
    ) -> list[CorrectionRecord]: ...
    def reservations_page(
        self, tenant_id: str, budget_id: str, after: str | None, limit: int
    ) -> list[tuple[ReservationRecord, Resolution | None]]: ...
    def kind_totals(
        self, unit: ReadUnit | None, tenant_id: str, account_id: str, window: Window = ALL_TIME
    ) -> KindTotals: ...
    def open_pending_total(self, unit: ReadUnit | None, tenant_id: str, account_id: str) -> int: ...
    def snapshot(self, tenant_id: str) -> AbstractContextManager[ReadUnit]: ...
    def entries(self, tenant_id: str, query: EntryQuery) -> list[EntryRecord]: ...


STORE: Port[BudgetStore] = Port("budgets")


def store_of(ledger: Ledger) -> BudgetStore:
    return ledger.extension(STORE)
