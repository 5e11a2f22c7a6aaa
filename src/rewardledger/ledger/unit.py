"""Units of work: one service use case, one transaction, shared with the journal.

Owns: running a service's use case (a budget reserve, a points spend, a cycle refresh...) so
that its journal transfers, its own rows (reservations, lots, alerts, dirty marks...) and its
outbox events are committed together or not at all (CONVENTIONS.md, rule 9), and running it
again, whole, on contention or when an id it wrote turns out to exist already.

A use case is a function of a ``UnitOfWork``. It may be called more than once: it must decide
everything from what it reads inside the unit, never from what an earlier call saw. After a
``DuplicateIdError`` the next call's ``submit`` answers the ids already in the journal from
their stored records (a replay), as ``Ledger.submit`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from rewardledger.domain import ids
from rewardledger.domain.accounts import MANAGED_BY_CALLS
from rewardledger.domain.errors import (
    AlreadyExists,
    Busy,
    DuplicateIdError,
    NotFound,
    RetryableError,
    ValidationError,
)
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.limits import WRITE_RETRIES_MAX
from rewardledger.domain.tenants import Asset, Tenant
from rewardledger.domain.transfers import (
    Operation,
    StoredRefusal,
    Transfer,
    operation_id,
)
from rewardledger.ledger.bulk import PostingColumns, post_columns
from rewardledger.ledger.clock import Clock
from rewardledger.ledger.ports import Store
from rewardledger.ledger.posting import Poster, pause_before_retry, raise_for_single
from rewardledger.ledger.results import TransferResult
from rewardledger.ledger.storage_unit import StorageUnit

T = TypeVar("T")


class UnitOfWork:
    """What a use case sees of its transaction: the tenant, the time, the journal, the outbox.

    ``unit`` is handed to the service's storage, whose statements then join this transaction.
    """

    def __init__(
        self,
        unit: StorageUnit,
        poster: Poster,
        tenant: Tenant,
        assets: Mapping[str, Asset],
        now: datetime,
        known: Mapping[str, Transfer | StoredRefusal],
    ) -> None:
        self.unit = unit
        self.tenant = tenant
        self.assets = assets
        self.now = now
        self._poster = poster
        self._known = known
        self._events: list[OutboxEvent] = []
        self.submitted_ids: list[str] = []

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    def submit(self, ops: Sequence[Operation], *, atomic: bool = True) -> list[TransferResult]:
        """Post transfers, holds, posts and voids in this transaction (see ``Ledger.submit``).

        Refused operations are written as refused journal rows, like any refusal; the caller
        decides what to do with them. Replays are answered from the stored first result.
        """
        self.submitted_ids.extend(operation_id(op) for op in ops)
        return self._poster.submit_within(
            self.unit.session, self.tenant, self.assets, ops, atomic=atomic, known=self._known
        )

    def post_all(self, columns: PostingColumns) -> None:
        """Post plain transfers all-or-nothing in this transaction, set-based (``ledger.bulk``):
        what ``submit`` of the same transfers writes, at a fraction of its cost per row. A
        replayed id or a refusal is answered by ``submit``, whose first error is raised."""
        self.submitted_ids.extend(columns.ids)
        session = self.unit.session
        if post_columns(session, self.tenant, self.assets, self.now, columns, self._known):
            return
        asset = self.assets.get(columns.asset)  # unknown: refused before any amount is read
        requests = columns.requests(asset.scale if asset is not None else 0)
        for result in self._poster.submit_within(
            session, self.tenant, self.assets, requests, atomic=True, known=self._known
        ):
            raise_for_single(result)

    def open_accounts(
        self, account_ids: Sequence[str], *, asset: str, managed_by: str | None = None
    ) -> None:
        """Open accounts of ``asset`` in this transaction, in a few statements whatever their
        number (a batch that brings new holders). Idempotent, like ``Ledger.create_account``:
        an account that exists with the same values is kept; with others, ``already_exists``.
        """
        for account_id in account_ids:
            ids.account_id(account_id)
        if managed_by is not None and managed_by not in MANAGED_BY_CALLS:
            raise ValidationError("managed_by must name a service or be None.", field="managed_by")
        if asset not in self.assets:
            raise NotFound("asset", asset)
        existed = self.unit.session.open_accounts(account_ids, asset, managed_by, self.now)
        for account_id, state in sorted(existed.items()):
            differing = [
                name
                for name, found, wanted in (
                    ("asset_code", state.asset_code, asset),
                    ("no_negative", state.no_negative, False),
                    ("managed_by", state.managed_by, managed_by),
                )
                if found != wanted
            ]
            if differing:
                raise AlreadyExists("account", account_id, differing)

    def event(
        self, event_type: str, subject_id: str, payload: Mapping[str, object] | None = None
    ) -> None:
        """Queue an outbox event; it is written with the rest of the unit, at commit."""
        self._events.append(OutboxEvent(event_type, subject_id, dict(payload or {})))

    def finish(self) -> None:
        """Write the queued events and commit (the runner calls this, never a use case)."""
        self.unit.write_events(self._events, self.now)
        self.unit.commit()


def run_unit(
    store: Store,
    poster: Poster,
    clock: Clock,
    tenant: Tenant,
    assets: Mapping[str, Asset],
    use_case: Callable[[UnitOfWork], T],
) -> T:
    """Run ``use_case`` in one transaction on ``tenant`` and commit it; run it again on
    contention or a duplicate id, at most WRITE_RETRIES_MAX times (then ``busy``).

    A ``LedgerError`` raised by the use case rolls the unit back and reaches the caller.
    To keep something written *and* refuse (a rejection that leaves an alert behind), return
    the refusal from the use case and raise it after the run returns.
    """
    known: dict[str, Transfer | StoredRefusal] = {}
    for attempt in range(1, WRITE_RETRIES_MAX + 1):
        submitted: list[str] = []
        try:
            with store.unit_of_work(tenant.id) as unit:
                work = UnitOfWork(unit, poster, tenant, assets, clock(), known)
                submitted = work.submitted_ids
                result = use_case(work)
                work.finish()
                return result
        except DuplicateIdError:
            # An id this unit wrote exists already (a replay, or a concurrent twin that
            # committed first): run again, answering the journal's ids from their records.
            if submitted:
                known = dict(store.get_records(tenant.id, submitted))
            pause_before_retry(attempt)
        except RetryableError:
            pause_before_retry(attempt)
    raise Busy(WRITE_RETRIES_MAX)
