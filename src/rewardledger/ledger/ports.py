"""What the ledger engine needs from storage, stated as protocols.

Owns: the boundary between the engine (which decides) and storage (which persists). The engine
never imports SQLAlchemy; ``rewardledger.storage.store.SqlStore`` implements these protocols
structurally and ``rewardledger.bootstrap`` wires it in. The records that cross the boundary
are domain values (``rewardledger.domain``), so storage depends on the domain only.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from rewardledger.domain.access import StoredApiKey
from rewardledger.domain.accounts import Account
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.keyed_writes import KeptWrite
from rewardledger.domain.reconciliation import (
    AccountDiscrepancy,
    AccountJournalTotals,
    JournalCheck,
    JournalSeal,
)
from rewardledger.domain.repairs import RepairClosing
from rewardledger.domain.tenants import Asset, Tenant
from rewardledger.domain.transfer_filter import TransferFilter, TransferPosition
from rewardledger.domain.transfers import (
    JournalEntry,
    StoredRefusal,
    Transfer,
)
from rewardledger.ledger.storage_unit import StorageUnit, WriteSession


class Store(Protocol):
    """Persistence for the ledger: tenants, assets, accounts, the journal and its projections."""

    def unit_of_work(self, tenant_id: str) -> AbstractContextManager[StorageUnit]: ...

    dialect: str

    def close(self) -> None: ...

    def ping(self) -> None: ...

    def migrate(self) -> None: ...

    def write_session(self, tenant_id: str) -> AbstractContextManager[WriteSession]: ...

    # Tenants, assets and accounts: insert_* return False when the key exists already.
    def insert_tenant(self, tenant: Tenant, event: OutboxEvent) -> bool: ...

    def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    def list_tenants(self) -> list[Tenant]: ...

    def count_tenants(self) -> int: ...

    def schema_revision(self) -> str | None: ...

    def insert_asset(self, asset: Asset, event: OutboxEvent) -> bool: ...

    def get_assets(self, tenant_id: str) -> dict[str, Asset]: ...

    def insert_account(self, account: Account, event: OutboxEvent) -> bool: ...

    def get_account(self, tenant_id: str, account_id: str) -> Account | None: ...

    def count_accounts(self, tenant_id: str) -> int: ...

    def list_accounts(
        self, tenant_id: str, asset: str | None, after: str | None, limit: int
    ) -> list[Account]: ...

    # Keyed set-up writes: the first answer under each idempotency key.
    def keyed_write(
        self, tenant_id: str, operation: str, idempotency_key: str
    ) -> tuple[str, dict[str, Any]] | None: ...

    def keep_keyed_write(self, kept: KeptWrite) -> bool: ...

    def prune_keyed_writes(self, tenant_id: str, older_than: datetime, limit: int) -> int: ...

    def list_transfers(
        self, tenant_id: str, chosen: TransferFilter, before: TransferPosition | None, limit: int
    ) -> list[Transfer]: ...

    # The journal.
    def get_transfer(self, tenant_id: str, transfer_id: str) -> Transfer | StoredRefusal | None: ...

    def get_records(
        self, tenant_id: str, transfer_ids: Sequence[str], *, with_state: bool = False
    ) -> dict[str, Transfer | StoredRefusal]: ...

    def history(
        self, tenant_id: str, account_id: str, before_seq: int | None, limit: int
    ) -> list[JournalEntry]: ...

    def posted_balance_at(self, tenant_id: str, account_id: str, at: datetime) -> int: ...

    def due_holds(self, tenant_id: str, now: datetime, limit: int) -> list[str]: ...

    # Integrity.
    def account_ids_after(self, tenant_id: str, after: str | None, limit: int) -> list[str]: ...

    def integrity_chunk(
        self, tenant_id: str, after: str | None, limit: int
    ) -> tuple[list[Account], dict[str, AccountJournalTotals]]: ...

    def asset_sums(self, tenant_id: str) -> dict[str, tuple[int, int]]: ...

    def multiply_resolved(self, tenant_id: str) -> list[tuple[str, int]]: ...

    def hold_mismatches(self, tenant_id: str) -> tuple[list[str], list[str]]: ...

    def check_journal(self, tenant_id: str) -> JournalCheck: ...

    def seal_journal(self, tenant_id: str, cutoff_at: datetime, now: datetime) -> JournalSeal: ...

    def start_repair(self, tenant_id: str, actor: str, now: datetime) -> str: ...

    def repair_chunk(
        self, tenant_id: str, repair_id: str, account_ids: Sequence[str], first_change_seq: int
    ) -> list[AccountDiscrepancy]: ...

    def repair_holds(
        self, tenant_id: str, repair_id: str, first_change_seq: int
    ) -> tuple[list[str], list[str]]: ...

    def finish_repair(
        self, tenant_id: str, repair_id: str, closing: RepairClosing, event: OutboxEvent
    ) -> None: ...

    # Access keys.
    def insert_api_key(self, key: StoredApiKey) -> bool: ...

    def find_api_key(self, key_id: str) -> StoredApiKey | None: ...

    def list_api_keys(
        self, tenant_id: str, after: str | None, limit: int
    ) -> list[StoredApiKey]: ...

    # Ending a key: the first end set stands; None when the tenant has no such key.
    def revoke_api_key(self, tenant_id: str, key_id: str, at: datetime) -> StoredApiKey | None: ...

    def expire_api_key(self, tenant_id: str, key_id: str, at: datetime) -> StoredApiKey | None: ...

    def touch_api_key(
        self, tenant_id: str, key_id: str, now: datetime, stale: datetime
    ) -> None: ...
