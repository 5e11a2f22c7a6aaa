"""Cycle ledgers kept in step with their movements: refresh, rebuild, due jobs, settings.

Owns: recomputing ``cashback_ledger`` and ``debt_ledger`` rows from the movements, the per-
tenant refresh mode, and reading the rows. Protects (DESIGN.md, "Cycle projections"):
- every movement marks its (holder, cycle) dirty in its own transaction (services.cashback,
  services.debt); a refresh recomputes exactly the marks it took and deletes each only if it
  is unchanged, so a movement committed late, after a refresh started, is still counted;
- a row is a function of its cycle's movements and, for debt, of the previous cycle's net
  debt: a change of cycle N's net debt marks the person's next cycle dirty (carry-forward);
- a full rebuild gives the same rows as any sequence of refreshes (a property test);
- a row whose values change writes an outbox event (``cashback_ledger.changed``,
  ``debt_ledger.changed``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Generic, Protocol, TypeVar

from rewardledger.domain import ids
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
    RefreshMode,
    cashback_cycle_closes_at,
    cashback_row,
    check_tag,
    debt_row,
)
from rewardledger.domain.errors import AccountNotFound, NotFound, ValidationError
from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    CYCLE_HOLDER_ID_LENGTH_MAX,
    CYCLE_MOVEMENT_ID_LENGTH_MAX,
    CYCLE_REBUILD_BATCH_SIZE,
    CYCLE_REFRESH_BATCH_SIZE,
    CYCLE_REFRESH_BATCHES_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
)
from rewardledger.domain.money import format_minor
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.ledger.unit import UnitOfWork

Pair = tuple[str, str]
T = TypeVar("T")
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
    def count_dirty(self, tenant_id: str) -> int: ...
    def mark_due(
        self, unit: StorageUnit, closing_tags: Sequence[str], overdue_before: datetime
    ) -> int: ...
    def open_cashback_tags(self, tenant_id: str, unit: StorageUnit) -> list[str]: ...
    def lock_projection(self, unit: StorageUnit, *, exclusive: bool) -> None: ...

    def get_cashback_movement(
        self, unit: StorageUnit, movement_id: str
    ) -> CashbackMovement | None: ...
    def insert_cashback_movement(self, unit: StorageUnit, movement: CashbackMovement) -> None: ...
    def get_debt_movement(self, unit: StorageUnit, movement_id: str) -> DebtMovement | None: ...
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
    def list_cashback_rows(
        self, tenant_id: str, where: LedgerFilter, after: Pair | None, limit: int
    ) -> list[tuple[CashbackRow, datetime]]: ...
    def list_debt_rows(
        self, tenant_id: str, where: LedgerFilter, after: Pair | None, limit: int
    ) -> list[tuple[DebtRow, datetime]]: ...


STORE: Port[CycleStore] = Port("cycles")


def store_of(ledger: Ledger) -> CycleStore:
    return ledger.extension(STORE)


# Ids and accounts -------------------------------------------------------------------------


def movement_id(value: object, field: str = "id") -> str:
    checked = ids.transfer_id(value, field)
    if len(checked) > CYCLE_MOVEMENT_ID_LENGTH_MAX:
        raise ValidationError(
            f"{field} must be at most {CYCLE_MOVEMENT_ID_LENGTH_MAX} characters.", field=field
        )
    return checked


def holder_id(value: object, field: str) -> str:
    checked = ids.account_id(value, field)
    if len(checked) > CYCLE_HOLDER_ID_LENGTH_MAX:
        raise ValidationError(
            f"{field} must be at most {CYCLE_HOLDER_ID_LENGTH_MAX} characters.", field=field
        )
    return checked


def ensure_account(ledger: Ledger, tenant_id: str, account_id: str, currency: str) -> None:
    """Open ``account_id`` in ``currency`` unless it exists (a transfer to an account of
    another asset is then refused as ``currency_mismatch``)."""
    try:
        ledger.get_account(tenant_id, account_id)
    except NotFound:
        ledger.create_account(tenant_id, account_id, asset=currency)


def run_opening_accounts(
    ledger: Ledger,
    tenant_id: str,
    use_case: Callable[[UnitOfWork], T],
    accounts: Sequence[str],
    currency: str,
) -> T:
    """Run ``use_case``; if its transfer names an account that does not exist yet (a new
    member, a new person), open ``accounts`` in ``currency`` and run it again. The refused
    unit was rolled back, so nothing of it remains. Saves a look-up on every movement."""
    try:
        return ledger.run(tenant_id, use_case)
    except AccountNotFound:
        for account_id in accounts:
            ensure_account(ledger, tenant_id, account_id, currency)
        return ledger.run(tenant_id, use_case)


# Settings ------------------------------------------------------------------------------------


def set_refresh_mode(ledger: Ledger, tenant_id: str, mode: str) -> RefreshMode:
    """``inline``: rows are recomputed in the writing transaction; ``job``: by a refresh."""
    try:
        chosen = RefreshMode(mode)
    except ValueError:
        raise ValidationError(
            'refresh_mode must be "inline" or "job".', field="refresh_mode"
        ) from None
    store = store_of(ledger)
    ledger.run(tenant_id, lambda work: store.put_refresh_mode(work.unit, chosen, work.now))
    return chosen


def refresh_mode(ledger: Ledger, tenant_id: str) -> RefreshMode:
    ledger.get_tenant(tenant_id)
    return store_of(ledger).get_refresh_mode(tenant_id)


# Recomputing one pair ------------------------------------------------------------------------


def _scale(work: UnitOfWork, currency: str) -> int:
    asset = work.assets.get(currency)
    assert asset is not None, f"programme currency {currency} is not an asset of the tenant"
    return asset.scale


def cashback_event_payload(row: CashbackRow, scale: int) -> dict[str, object]:
    return {
        "account_id": row.account_id,
        "cycle_tag": row.cycle_tag,
        "total_cashback": format_minor(row.total_cashback_minor, scale),
        "remaining_budget": format_minor(row.remaining_budget_minor, scale),
        "eligibility": row.eligibility.value,
        "status": row.status.value,
    }


def debt_event_payload(row: DebtRow, scale: int) -> dict[str, object]:
    return {
        "person_id": row.person_id,
        "cycle_tag": row.cycle_tag,
        "net_debt": format_minor(row.net_debt_minor, scale),
        "status": row.status.value,
    }


def refresh_cashback_pair(work: UnitOfWork, store: CycleStore, account_id: str, tag: str) -> bool:
    """Recompute one cashback row in ``work``'s transaction; return whether it changed."""
    program = store.get_cashback_program(work.tenant_id, work.unit)
    if program is None:
        return False
    settings = store.get_cashback_account(work.tenant_id, account_id, work.unit)
    totals = store.cashback_totals(work.unit, account_id, tag)
    scale = _scale(work, program.currency)
    row = cashback_row(
        account_id, tag, totals, settings, program, work.tenant.zone, work.now, scale
    )
    key = (account_id, tag)
    if store.cashback_rows(work.unit, work.tenant_id, key, key).get(key) == row:
        return False
    store.upsert_cashback_rows(work.unit, [row], work.now)
    work.event("cashback_ledger.changed", f"{account_id}/{tag}", cashback_event_payload(row, scale))
    return True


def refresh_debt_pair(
    work: UnitOfWork, store: CycleStore, person_id: str, tag: str
) -> tuple[bool, DirtyMark | None]:
    """Recompute one debt row; when its net debt changed, mark the person's next cycle dirty
    (it carries this net forward) and return that mark with whether the row changed."""
    program = store.get_debt_program(work.tenant_id, work.unit)
    if program is None:
        return False, None
    totals = store.debt_totals(work.unit, person_id, tag)
    carried = store.previous_debt_net(work.unit, person_id, tag)
    scale = _scale(work, program.currency)
    row = debt_row(person_id, tag, totals, carried, program, work.tenant.zone, work.now, scale)
    key = (person_id, tag)
    before = store.debt_rows(work.unit, work.tenant_id, key, key).get(key)
    if before == row:
        return False, None
    store.upsert_debt_rows(work.unit, [row], work.now)
    work.event("debt_ledger.changed", f"{person_id}/{tag}", debt_event_payload(row, scale))
    following = None
    if before is None or before.net_debt_minor != row.net_debt_minor:
        tag_after = store.next_debt_cycle(work.unit, person_id, tag)
        if tag_after is not None:
            following = store.mark_dirty(work.unit, LedgerName.DEBT, person_id, tag_after)
    return True, following


def _refresh_mark(
    work: UnitOfWork, store: CycleStore, mark: DirtyMark
) -> tuple[int, DirtyMark | None]:
    """Recompute a marked pair and delete its mark (if unchanged since it was read)."""
    following = None
    if mark.ledger is LedgerName.CASHBACK:
        changed = refresh_cashback_pair(work, store, mark.holder_id, mark.cycle_tag)
    else:
        changed, following = refresh_debt_pair(work, store, mark.holder_id, mark.cycle_tag)
    store.clear_dirty(work.unit, mark)
    return int(changed), following


def refresh_inline(work: UnitOfWork, store: CycleStore, mark: DirtyMark) -> int:
    """In inline mode, recompute the pair a movement marked (and, for debt, each later cycle
    whose carried debt changed) in the writing transaction, which already holds the pair's
    mark. In job mode do nothing: the mark waits for a refresh. Returns rows changed."""
    if store.get_refresh_mode(work.tenant_id, work.unit) is not RefreshMode.INLINE:
        return 0
    store.lock_projection(work.unit, exclusive=False)
    changed = 0
    pending: DirtyMark | None = mark
    for _ in range(CYCLE_REFRESH_BATCHES_MAX):
        if pending is None:
            break
        count, pending = _refresh_mark(work, store, pending)
        changed += count
    return changed


# Refresh and rebuild -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshReport:
    pairs: int
    rows_changed: int


def refresh(
    ledger: Ledger,
    tenant_id: str,
    *,
    batch_size: int = CYCLE_REFRESH_BATCH_SIZE,
    progress: Progress | None = None,
) -> RefreshReport:
    """Recompute the dirty pairs, a batch per transaction, until none is left (or
    CYCLE_REFRESH_BATCHES_MAX batches ran: writers may keep marking pairs)."""
    assert 1 <= batch_size <= CYCLE_REFRESH_BATCH_SIZE, batch_size
    store = store_of(ledger)

    def batch(work: UnitOfWork) -> tuple[int, int]:
        store.lock_projection(work.unit, exclusive=False)
        marks = store.take_dirty(work.unit, batch_size)
        # A debt cycle whose net changed marks the next cycle; the next batch takes that mark.
        return len(marks), sum(_refresh_mark(work, store, mark)[0] for mark in marks)

    pairs = changed = 0
    for _ in range(CYCLE_REFRESH_BATCHES_MAX):
        taken, rows_changed = ledger.run(tenant_id, batch)
        if taken == 0:
            break
        pairs += taken
        changed += rows_changed
        if progress is not None:
            progress(taken)
    return RefreshReport(pairs, changed)


def count_dirty(ledger: Ledger, tenant_id: str) -> int:
    ledger.get_tenant(tenant_id)
    return store_of(ledger).count_dirty(tenant_id)


def count_pairs(ledger: Ledger, tenant_id: str) -> int:
    ledger.get_tenant(tenant_id)
    return store_of(ledger).count_pairs(tenant_id)


def rebuild(
    ledger: Ledger,
    tenant_id: str,
    *,
    batch_size: int = CYCLE_REBUILD_BATCH_SIZE,
    progress: Progress | None = None,
) -> RefreshReport:
    """Recompute every row from the movements, a keyset batch of pairs per transaction (memory
    stays flat). Each batch holds the projection lock exclusively, so no refresh writes a row
    between its read and its write; a movement committed meanwhile keeps its dirty mark."""
    assert 1 <= batch_size <= CYCLE_REBUILD_BATCH_SIZE, batch_size
    store = store_of(ledger)
    pairs = changed = 0
    after: Pair | None = None
    while True:
        after, taken, fresh = ledger.run(
            tenant_id, partial(_rebuild_cashback_batch, store, after, batch_size)
        )
        pairs, changed = pairs + taken, changed + fresh
        if progress is not None and taken:
            progress(taken)
        if after is None:
            break
    # Debt: pairs come in (person, cycle) order, so the previous cycle's net is at hand.
    carried: tuple[str, int] | None = None
    while True:
        after, carried, taken, fresh = ledger.run(
            tenant_id, partial(_rebuild_debt_batch, store, after, carried, batch_size)
        )
        pairs, changed = pairs + taken, changed + fresh
        if progress is not None and taken:
            progress(taken)
        if after is None:
            break
    return RefreshReport(pairs, changed)


def _rebuild_cashback_batch(
    store: CycleStore, after: Pair | None, batch_size: int, work: UnitOfWork
) -> tuple[Pair | None, int, int]:
    store.lock_projection(work.unit, exclusive=True)
    program = store.get_cashback_program(work.tenant_id, work.unit)
    found = store.cashback_pair_totals(work.unit, after, batch_size)
    if not found or program is None:
        return None, 0, 0
    scale = _scale(work, program.currency)
    settings = store.cashback_accounts_settings(work.unit, [a for a, _, _ in found])
    zone = work.tenant.zone
    rows = [
        cashback_row(account, tag, totals, settings.get(account), program, zone, work.now, scale)
        for account, tag, totals in found
    ]
    low, high = (found[0][0], found[0][1]), (found[-1][0], found[-1][1])
    stored = store.cashback_rows(work.unit, work.tenant_id, low, high)
    fresh = [row for row in rows if stored.get((row.account_id, row.cycle_tag)) != row]
    store.upsert_cashback_rows(work.unit, fresh, work.now)
    for row in fresh:
        work.event(
            "cashback_ledger.changed",
            f"{row.account_id}/{row.cycle_tag}",
            cashback_event_payload(row, scale),
        )
    return high, len(found), len(fresh)


def _rebuild_debt_batch(
    store: CycleStore,
    after: Pair | None,
    carried: tuple[str, int] | None,
    batch_size: int,
    work: UnitOfWork,
) -> tuple[Pair | None, tuple[str, int] | None, int, int]:
    store.lock_projection(work.unit, exclusive=True)
    program = store.get_debt_program(work.tenant_id, work.unit)
    found = store.debt_pair_totals(work.unit, after, batch_size)
    if not found or program is None:
        return None, None, 0, 0
    scale = _scale(work, program.currency)
    rows: list[DebtRow] = []
    for person, tag, totals in found:
        net_before = carried[1] if carried is not None and carried[0] == person else 0
        row = debt_row(person, tag, totals, net_before, program, work.tenant.zone, work.now, scale)
        rows.append(row)
        carried = (person, row.net_debt_minor)
    low, high = (found[0][0], found[0][1]), (found[-1][0], found[-1][1])
    stored = store.debt_rows(work.unit, work.tenant_id, low, high)
    fresh = [row for row in rows if stored.get((row.person_id, row.cycle_tag)) != row]
    store.upsert_debt_rows(work.unit, fresh, work.now)
    for row in fresh:
        work.event(
            "debt_ledger.changed",
            f"{row.person_id}/{row.cycle_tag}",
            debt_event_payload(row, scale),
        )
    return high, carried, len(found), len(fresh)


def run_due(ledger: Ledger, tenant_id: str) -> dict[str, int]:
    """The due-jobs step: mark cashback cycles past their grace and unpaid debt past its due
    date (plus grace) dirty, then refresh every dirty pair. Safe to run twice or at once."""
    store = store_of(ledger)

    def mark(work: UnitOfWork) -> int:
        cashback = store.get_cashback_program(work.tenant_id, work.unit)
        closing: list[str] = []
        if cashback is not None:
            closing = [
                tag
                for tag in store.open_cashback_tags(work.tenant_id, work.unit)
                if work.now >= cashback_cycle_closes_at(tag, work.tenant.zone, cashback.grace_days)
            ]
        debt = store.get_debt_program(work.tenant_id, work.unit)
        grace = debt.grace_days if debt is not None else 0
        return store.mark_due(work.unit, closing, work.now - timedelta(days=grace))

    marked = ledger.run(tenant_id, mark)
    report = refresh(ledger, tenant_id)
    return {
        "cycle_rows_due": marked,
        "cycle_pairs_refreshed": report.pairs,
        "cycle_rows_changed": report.rows_changed,
    }


# Reading -------------------------------------------------------------------------------------


RowT = TypeVar("RowT", CashbackRow, DebtRow)


@dataclass(frozen=True, slots=True)
class LedgerPage(Generic[RowT]):
    rows: list[tuple[RowT, datetime]]
    next_cursor: str | None


def parse_cursor(cursor: str | None) -> Pair | None:
    if cursor is None:
        return None
    holder, _, tag = cursor.rpartition("/")
    if not holder or len(holder) > ACCOUNT_ID_LENGTH_MAX:
        raise ValidationError(
            "cursor is not one this API gave; send the next_cursor of the previous page.",
            field="cursor",
        )
    return holder, check_tag(tag, "cursor")


def page_size(value: int | None) -> int:
    size = PAGE_SIZE_DEFAULT if value is None else value
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise ValidationError(f"limit must be from 1 to {PAGE_SIZE_MAX}.", field="limit")
    return size


def list_cashback_ledger(
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> LedgerPage[CashbackRow]:
    ledger.get_tenant(tenant_id)
    size = page_size(limit)
    rows = store_of(ledger).list_cashback_rows(tenant_id, where, parse_cursor(cursor), size + 1)
    following = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1][0]
        following = f"{last.account_id}/{last.cycle_tag}"
    return LedgerPage(rows, following)


def list_debt_ledger(
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> LedgerPage[DebtRow]:
    ledger.get_tenant(tenant_id)
    size = page_size(limit)
    rows = store_of(ledger).list_debt_rows(tenant_id, where, parse_cursor(cursor), size + 1)
    following = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1][0]
        following = f"{last.person_id}/{last.cycle_tag}"
    return LedgerPage(rows, following)


def _every_row(
    list_page: Callable[..., LedgerPage[RowT]],
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
) -> Iterator[tuple[RowT, datetime]]:
    """Every row ``list_page`` matches, read a page of PAGE_SIZE_MAX at a time (for exports:
    memory holds one page, whatever the number of rows)."""
    cursor: str | None = None
    while True:
        page = list_page(ledger, tenant_id, where, cursor=cursor, limit=PAGE_SIZE_MAX)
        yield from page.rows
        if (cursor := page.next_cursor) is None:
            return


def every_cashback_row(
    ledger: Ledger, tenant_id: str, where: LedgerFilter
) -> Iterator[tuple[CashbackRow, datetime]]:
    return _every_row(list_cashback_ledger, ledger, tenant_id, where)


def every_debt_row(
    ledger: Ledger, tenant_id: str, where: LedgerFilter
) -> Iterator[tuple[DebtRow, datetime]]:
    return _every_row(list_debt_ledger, ledger, tenant_id, where)


def get_cashback_row(
    ledger: Ledger, tenant_id: str, account_id: str, tag: str
) -> tuple[CashbackRow, datetime]:
    page = list_cashback_ledger(
        ledger, tenant_id, LedgerFilter(holder_id=account_id, cycle_tag=check_tag(tag)), limit=1
    )
    if not page.rows:
        raise NotFound("cashback ledger row", f"{account_id}/{tag}")
    return page.rows[0]


def get_debt_row(
    ledger: Ledger, tenant_id: str, person_id: str, tag: str
) -> tuple[DebtRow, datetime]:
    page = list_debt_ledger(
        ledger, tenant_id, LedgerFilter(holder_id=person_id, cycle_tag=check_tag(tag)), limit=1
    )
    if not page.rows:
        raise NotFound("debt ledger row", f"{person_id}/{tag}")
    return page.rows[0]
