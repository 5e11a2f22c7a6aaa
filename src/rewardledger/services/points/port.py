"""The storage the points service needs: ``PointsStore`` and its ``STORE`` port, and the
expiring-soon reminders' ``ReminderStore`` and its ``REMINDERS`` port.

Owns: the one protocol every points use case reaches its tables through
(``storage.points.SqlPointsStore`` implements it, wired in ``rewardledger.bootstrap``), and
the one of the reminders step (``storage.points_reminders.SqlReminderStore``). Every
method that writes, or reads what decides a write, takes the use case's ``StorageUnit``, so
its statements join the use case's one transaction (rule 17).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from rewardledger.domain.points import ExpiryPolicy, Lot, LotState, Move, Reason
from rewardledger.domain.points_queries import (
    AccumulationQuery,
    MovementKey,
    MovementReads,
    RefundIds,
    ReminderWindow,
)
from rewardledger.domain.points_requests import (
    AssetExpiry,
    AssetHolders,
    ExpiringQuery,
    ReasonQuery,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit


class PointsStore(Protocol):
    """What the points service needs of its storage (``storage.points.SqlPointsStore``)."""

    def get_expiry(self, tenant_id: str, asset_code: str) -> ExpiryPolicy | None: ...
    def points_assets(self, tenant_id: str) -> list[str]: ...
    def points_assets_page(self, tenant_id: str, after: str | None, limit: int) -> list[str]: ...
    def put_asset(
        self, unit: StorageUnit, tenant_id: str, asset: AssetExpiry, now: datetime
    ) -> None: ...
    def reasons(self, tenant_id: str) -> dict[tuple[str, str], Reason]: ...
    def reasons_page(self, tenant_id: str, wanted: ReasonQuery) -> list[Reason]: ...
    def put_reason(
        self, unit: StorageUnit, tenant_id: str, reason: Reason, now: datetime
    ) -> None: ...
    def holder_exists(self, tenant_id: str, asset_code: str, holder_id: str) -> bool: ...
    def context(
        self, tenant_id: str, key: MovementKey
    ) -> tuple[ExpiryPolicy | None, Reason | None, bool]: ...
    def movement_context(
        self, unit: StorageUnit, tenant_id: str, reads: MovementReads
    ) -> tuple[ExpiryPolicy | None, Reason | None, bool, bool, list[Lot]]: ...
    def holders(self, tenant_id: str, after: str | None, limit: int) -> list[tuple[str, str]]: ...
    def lock_holders(
        self, unit: StorageUnit, tenant_id: str, holders: AssetHolders, now: datetime
    ) -> list[str]: ...
    def open_lots(
        self, unit: StorageUnit, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> list[Lot]: ...
    def get_lot(self, unit: ReadUnit | None, tenant_id: str, lot_id: str) -> Lot | None: ...
    def get_lots(
        self, unit: StorageUnit, tenant_id: str, lot_ids: Sequence[str]
    ) -> dict[str, Lot]: ...
    def insert_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None: ...
    def update_lots(self, unit: StorageUnit, tenant_id: str, lots: Sequence[Lot]) -> None: ...
    def insert_moves(
        self, unit: StorageUnit, tenant_id: str, moves: Sequence[Move], now: datetime
    ) -> None: ...
    def moves_of(
        self, unit: ReadUnit | None, tenant_id: str, movement_id: str
    ) -> list[tuple[str, int]]: ...
    def refund_context(
        self, unit: StorageUnit, tenant_id: str, reads: RefundIds
    ) -> tuple[dict[str, Any] | None, bool, list[Lot], list[tuple[str, int]], dict[str, Lot]]: ...
    def existing_transfer_ids(
        self, unit: StorageUnit, tenant_id: str, transfer_ids: Sequence[str]
    ) -> set[str]: ...
    def due_lots(
        self, tenant_id: str, state: LotState, now: datetime, limit: int
    ) -> list[tuple[str, str, str]]: ...
    def expiring_page(
        self, tenant_id: str, wanted: ExpiringQuery
    ) -> list[tuple[datetime, int]]: ...
    def get_redemption(
        self, unit: ReadUnit | None, tenant_id: str, redemption_id: str
    ) -> dict[str, Any] | None: ...
    def get_redemption_by_code(
        self, unit: ReadUnit | None, tenant_id: str, code: str
    ) -> dict[str, Any] | None: ...
    def insert_redemption(self, unit: StorageUnit, row: Mapping[str, Any]) -> None: ...
    def update_redemption(
        self, unit: StorageUnit, tenant_id: str, redemption_id: str, values: Mapping[str, Any]
    ) -> None: ...
    def due_redemptions(self, tenant_id: str, now: datetime, limit: int) -> list[str]: ...
    def list_redemptions(
        self, tenant_id: str, state: str | None, after: str | None, limit: int
    ) -> list[dict[str, Any]]: ...
    def accumulations(self, tenant_id: str, wanted: AccumulationQuery) -> list[dict[str, Any]]: ...
    def holder_sums(
        self, tenant_id: str, account_ids: Sequence[str]
    ) -> dict[str, dict[str, int]]: ...
    def lot_sums(
        self, tenant_id: str, asset_code: str, holder_ids: Sequence[str]
    ) -> dict[str, int]: ...


STORE: Port[PointsStore] = Port("points")


def store_of(ledger: Ledger) -> PointsStore:
    return ledger.extension(STORE)


Holder = tuple[str, str]  # (asset, holder)


class ReminderStore(Protocol):
    """What the reminders need of storage (``storage.points_reminders.SqlReminderStore``)."""

    def holders_expiring(
        self,
        unit: StorageUnit,
        tenant_id: str,
        window: ReminderWindow,
        after: Holder | None,
        limit: int,
    ) -> list[Holder]: ...
    def lots_expiring(
        self, unit: StorageUnit, tenant_id: str, window: ReminderWindow, holders: Sequence[Holder]
    ) -> list[tuple[str, str, datetime, int]]: ...
    def mark_reminded(
        self,
        unit: StorageUnit,
        tenant_id: str,
        window: ReminderWindow,
        reminders: Sequence[tuple[str, str, str, int]],
    ) -> set[tuple[str, str, str]]: ...


REMINDERS: Port[ReminderStore] = Port("points_reminders")
