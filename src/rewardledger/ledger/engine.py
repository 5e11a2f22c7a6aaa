"""``Ledger``: the double-entry engine as one in-process object.

Owns: the use cases of the core (tenants, assets, accounts, transfers, two-phase transfers,
expiry, history, balances, integrity). Every write is one transaction; every write carries an
id that is its idempotency key; every call names its tenant first.

    with Ledger.open("sqlite:///loyalty.db") as ledger:
        ledger.create_tenant("acme", timezone="America/Panama")
        ledger.create_asset("acme", "LUMIS", scale=0)
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Self, TypeAlias, TypeVar

from rewardledger.domain import ids
from rewardledger.domain.accounts import MANAGED_BY_CALLS, Account, Balances
from rewardledger.domain.errors import (
    AlreadyExists,
    Busy,
    NotFound,
    RetryableError,
    ValidationError,
)
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.limits import (
    EXPIRY_BATCH_SIZE,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    WRITE_RETRIES_MAX,
)
from rewardledger.domain.money import Amount
from rewardledger.domain.reconciliation import JournalSeal
from rewardledger.domain.tenants import Asset, Tenant, asset_scale, display_name, timezone_name
from rewardledger.domain.transfers import (
    ExpirePending,
    JournalEntry,
    Operation,
    Phase,
    PostPending,
    StoredRefusal,
    Transfer,
    TransferRequest,
    VoidPending,
    check_instant,
    check_metadata,
)
from rewardledger.ledger import integrity
from rewardledger.ledger.assets import TenantAssets
from rewardledger.ledger.clock import Clock, system_clock
from rewardledger.ledger.extensions import Extensions, Port
from rewardledger.ledger.history import history_cursor, history_entries
from rewardledger.ledger.ports import Store
from rewardledger.ledger.posting import Poster, pause_before_retry, raise_for_single
from rewardledger.ledger.results import (
    BalanceView,
    HistoryPage,
    IntegrityReport,
    RepairReport,
    TransferResult,
)
from rewardledger.ledger.unit import UnitOfWork, run_unit

T = TypeVar("T")
Progress: TypeAlias = integrity.Progress | None
Report: TypeAlias = IntegrityReport


class Ledger:
    """The engine. Thread-safe: share one per process; it holds a connection pool."""

    def __init__(
        self, store: Store, clock: Clock = system_clock, extensions: Extensions | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.extensions = extensions or Extensions()
        self._poster = Poster(store, clock)
        # Tenants and assets never change once created: found ones are cached, misses re-read.
        self._tenants: dict[str, Tenant] = {}
        self._assets: dict[str, TenantAssets] = {}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Tenants ---------------------------------------------------------------------------------

    def create_tenant(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        timezone: str = "UTC",
        exist_ok: bool = True,
    ) -> Tenant:
        """Create a tenant; creating it again with the same values returns it unchanged.

        With ``exist_ok=False`` an existing tenant is ``already_exists`` whatever its values
        (for callers that must act only on a tenant they created, such as issuing its first
        admin key).
        """
        tenant = Tenant(
            ids.tenant_id(tenant_id),
            display_name(name if name is not None else tenant_id),
            timezone_name(timezone),
            self.clock(),
        )
        if self._retry(
            lambda: self.store.insert_tenant(tenant, OutboxEvent("tenant.created", tenant.id))
        ):
            return tenant
        existing = self.get_tenant(tenant_id)
        differing = [f for f in ("name", "timezone") if getattr(existing, f) != getattr(tenant, f)]
        if differing or not exist_ok:
            raise AlreadyExists("tenant", tenant_id, differing)
        return existing

    def get_tenant(self, tenant_id: str) -> Tenant:
        cached = self._tenants.get(tenant_id)
        if cached is not None:
            return cached
        tenant = self.store.get_tenant(ids.tenant_id(tenant_id))
        if tenant is None:
            raise NotFound("tenant", tenant_id)
        self._tenants[tenant_id] = tenant
        return tenant

    def list_tenants(self) -> list[Tenant]:
        return self.store.list_tenants()

    def count_tenants(self) -> int:
        return self.store.count_tenants()

    def schema_revision(self) -> str | None:
        """The database's schema revision (None before the first migration)."""
        return self.store.schema_revision()

    # Assets ----------------------------------------------------------------------------------

    def create_asset(
        self, tenant_id: str, code: str, *, scale: int, name: str | None = None
    ) -> Asset:
        """Create an asset (a currency or a points programme) with its number of decimals."""
        self.get_tenant(tenant_id)
        asset = Asset(
            tenant_id,
            ids.asset_code(code, "code"),
            asset_scale(scale),
            display_name(name if name is not None else code),
            self.clock(),
        )
        if self._retry(
            lambda: self.store.insert_asset(asset, OutboxEvent("asset.created", asset.code))
        ):
            return asset
        existing = self.get_asset(tenant_id, code)
        differing = [f for f in ("scale", "name") if getattr(existing, f) != getattr(asset, f)]
        if differing:
            raise AlreadyExists("asset", code, differing)
        return existing

    def assets(self, tenant_id: str) -> TenantAssets:
        """The tenant's assets by code; a miss is read again first (see ``ledger.assets``)."""
        self.get_tenant(tenant_id)
        cached = self._assets.get(tenant_id)
        if cached is None:
            cached = self._assets[tenant_id] = TenantAssets(
                partial(self.store.get_assets, tenant_id)
            )
        return cached

    def get_asset(self, tenant_id: str, code: str) -> Asset:
        asset = self.assets(tenant_id).get(code)
        if asset is None:
            raise NotFound("asset", code)
        return asset

    # Accounts --------------------------------------------------------------------------------

    def create_account(
        self,
        tenant_id: str,
        account_id: str,
        *,
        asset: str,
        no_negative: bool = False,
        metadata: Mapping[str, Any] | None = None,
        managed_by: str | None = None,
    ) -> Account:
        """Open an account of one asset; ``no_negative`` forbids its balance going below zero.

        ``managed_by``: the service opening it (``MANAGED_BY_CALLS``), which alone moves it.
        Creating it again with the same values returns it; other values are ``already_exists``.
        """
        ids.account_id(account_id)
        if not isinstance(no_negative, bool):
            raise ValidationError("no_negative must be true or false.", field="no_negative")
        if managed_by is not None and managed_by not in MANAGED_BY_CALLS:
            raise ValidationError("managed_by must name a service or be None.", field="managed_by")
        check_metadata(metadata)
        self.get_asset(tenant_id, ids.asset_code(asset))
        now = self.clock()
        account = Account(
            tenant_id=tenant_id,
            id=account_id,
            asset_code=asset,
            no_negative=no_negative,
            metadata=dict(metadata or {}),
            balances=Balances(),
            entry_count=0,
            created_at=now,
            updated_at=now,
            managed_by=managed_by,
        )
        event = OutboxEvent("account.created", account_id, {"asset": asset})
        if self._retry(lambda: self.store.insert_account(account, event)):
            return account
        existing = self.get_account(tenant_id, account_id)
        differing = [
            field
            for field in ("asset_code", "no_negative", "metadata", "managed_by")
            if getattr(existing, field) != getattr(account, field)
        ]
        if differing:
            raise AlreadyExists("account", account_id, differing)
        return existing

    def count_accounts(self, tenant_id: str) -> int:
        """How many accounts the tenant has (for the progress of jobs that walk them all)."""
        self.get_tenant(tenant_id)
        return self.store.count_accounts(tenant_id)

    def get_account(self, tenant_id: str, account_id: str) -> Account:
        self.get_tenant(tenant_id)
        account = self.store.get_account(tenant_id, ids.account_id(account_id))
        if account is None:
            raise NotFound("account", account_id)
        return account

    # Transfers -------------------------------------------------------------------------------

    def transfer(
        self, tenant_id: str, request: TransferRequest, *, dry_run: bool = False
    ) -> Transfer:
        """Post one transfer (or hold it, if ``request.pending``); raise its rejection if refused.

        The request's ``id`` is its idempotency key: sending it again returns the first result.
        """
        return raise_for_single(self.submit(tenant_id, [request], dry_run=dry_run)[0])

    def transfer_batch(
        self,
        tenant_id: str,
        requests: Sequence[TransferRequest],
        *,
        atomic: bool = True,
        dry_run: bool = False,
    ) -> list[TransferResult]:
        """Post up to 8,000 transfers in one transaction.

        ``atomic``: all are applied or none (one refusal refuses the batch); otherwise each is
        applied or refused on its own, in order.
        """
        return self.submit(tenant_id, requests, atomic=atomic, dry_run=dry_run)

    def post_pending(
        self,
        tenant_id: str,
        pending_id: str,
        *,
        id: str | None = None,
        amount: str | None = None,
        effective_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> Transfer:
        """Post a pending transfer in full, or for ``amount`` (less); the rest is released."""
        op = PostPending(pending_id, id, amount, effective_at, metadata)
        return raise_for_single(self.submit(tenant_id, [op], dry_run=dry_run)[0])

    def void_pending(
        self,
        tenant_id: str,
        pending_id: str,
        *,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> Transfer:
        """Void a pending transfer: release all it holds."""
        op = VoidPending(pending_id, id, metadata)
        return raise_for_single(self.submit(tenant_id, [op], dry_run=dry_run)[0])

    def submit(
        self,
        tenant_id: str,
        ops: Sequence[Operation],
        *,
        atomic: bool = True,
        dry_run: bool = False,
    ) -> list[TransferResult]:
        """Run any mix of transfers, posts, voids in one transaction (see ``transfer_batch``)."""
        tenant = self.get_tenant(tenant_id)
        return self._poster.submit(
            tenant, self.assets(tenant_id), ops, atomic=atomic, dry_run=dry_run
        )

    def expire_due(self, tenant_id: str | None = None) -> int:
        """Expire every pending transfer whose timeout has passed; return how many.

        Safe to run concurrently and repeatedly: an expiry is written under the derived id
        ``<pending_id>.expire``, so two runs cannot expire one transfer twice.
        """
        tenants = [tenant_id] if tenant_id is not None else [t.id for t in self.list_tenants()]
        expired = 0
        for tid in tenants:
            self.get_tenant(tid)
            while True:
                due = self.store.due_holds(tid, self.clock(), EXPIRY_BATCH_SIZE)
                if not due:
                    break
                results = self.submit(tid, [ExpirePending(p) for p in due], atomic=False)
                expired += sum(1 for r in results if r.ok and not r.replayed)
                if len(due) < EXPIRY_BATCH_SIZE:
                    break
        return expired

    def get_transfer(self, tenant_id: str, transfer_id: str) -> Transfer:
        self.get_tenant(tenant_id)
        record = self.store.get_transfer(tenant_id, ids.journal_id(transfer_id))
        if record is None:
            raise NotFound("transfer", transfer_id)
        if isinstance(record, StoredRefusal):
            raise NotFound(
                "transfer",
                transfer_id,
                f"A request with this id was refused ({record.error_code}) and moved nothing; "
                "send it again to see the refusal.",
            )
        return record

    # Reads -----------------------------------------------------------------------------------

    def history(
        self,
        tenant_id: str,
        account_id: str,
        *,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> HistoryPage:
        """The account's journal entries, newest first, with its posted balance after each."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE_SIZE_MAX:
            raise ValidationError(f"limit must be from 1 to {PAGE_SIZE_MAX}.", field="limit")
        before = history_cursor(cursor)
        account = self.get_account(tenant_id, account_id)
        scale = self.get_asset(tenant_id, account.asset_code).scale
        rows = self.store.history(tenant_id, account_id, before, limit)
        # A post releases what its pending transfer held: read those amounts in one query.
        held = self._held_amounts(tenant_id, rows)
        entries = history_entries(rows, scale, held)
        next_cursor = (
            str(entries[-1].seq) if len(entries) == limit and entries[-1].seq > 1 else None
        )
        return HistoryPage(account_id, entries, next_cursor)

    def _held_amounts(self, tenant_id: str, rows: Sequence[JournalEntry]) -> dict[str, int]:
        pending_ids = sorted(
            {
                r.transfer.pending_id
                for r in rows
                if r.transfer.phase is Phase.POST and r.transfer.pending_id is not None
            }
        )
        if not pending_ids:
            return {}
        records = self.store.get_records(tenant_id, pending_ids)
        return {
            pending_id: record.amount_minor
            for pending_id, record in records.items()
            if isinstance(record, Transfer)
        }

    def balance(
        self, tenant_id: str, account_id: str, *, at: datetime | None = None
    ) -> BalanceView:
        """Balances now, or the posted balance as of ``at`` (by the transfers' effective time)."""
        account = self.get_account(tenant_id, account_id)
        scale = self.get_asset(tenant_id, account.asset_code).scale
        if at is None:
            b = account.balances
            return BalanceView(
                account_id,
                account.asset_code,
                None,
                Amount(b.posted, scale),
                Amount(b.available, scale),
                Amount(b.debits_pending, scale),
                Amount(b.credits_pending, scale),
            )
        posted = self.store.posted_balance_at(tenant_id, account_id, check_instant(at, "at"))
        return BalanceView(
            account_id, account.asset_code, at, Amount(posted, scale), None, None, None
        )

    # Integrity -------------------------------------------------------------------------------

    def verify(self, tenant_id: str, progress: Progress = None, head: str | None = None) -> Report:
        """Invariants 1, 2 and 5, the journal's digests and seals, and ``head`` (exported)."""
        self.get_tenant(tenant_id)
        assets = self.assets(tenant_id)
        return integrity.verify(self.store, self.clock, tenant_id, assets, progress, head)

    def seal(self, tenant_id: str) -> JournalSeal:
        """Seal the journal (``integrity.seal``); export the head to compare with later."""
        return integrity.seal(self.store, self.clock, self.get_tenant(tenant_id).id)

    def repair(self, tenant_id: str, *, actor: str, progress: Progress = None) -> RepairReport:
        """Rebuild materialized totals and holds from the journal; record who and what changed."""
        self.get_tenant(tenant_id)
        display_name(actor, "actor")
        assets = self.assets(tenant_id)
        return integrity.repair(self.store, self.clock, tenant_id, assets, actor, progress)

    # Units of work ---------------------------------------------------------------------------

    def run(self, tenant_id: str, use_case: Callable[[UnitOfWork], T]) -> T:
        """Run a service's use case in one transaction with the journal (see ``ledger.unit``)."""
        tenant, assets = self.get_tenant(tenant_id), self.assets(tenant_id)
        return run_unit(self.store, self._poster, self.clock, tenant, assets, use_case)

    def extension(self, port: Port[T]) -> T:
        """The storage of one service, as wired in ``rewardledger.bootstrap``."""
        return self.extensions.get(port)

    def _retry(self, write: Callable[[], T]) -> T:
        """Run a short write, again on contention, at most WRITE_RETRIES_MAX times."""
        for attempt in range(1, WRITE_RETRIES_MAX + 1):
            try:
                return write()
            except RetryableError:
                pause_before_retry(attempt)
        raise Busy(WRITE_RETRIES_MAX)
