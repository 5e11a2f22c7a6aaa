"""Recomputing cycle ledger rows from their movements, one pair or one batch at a time.

Owns: turning movements into ``cashback_ledger`` / ``debt_ledger`` rows and writing the ones
that changed. Protects (DESIGN.md, "Cycle projections"):
- a refresh recomputes exactly the marks it took and deletes each only if it is unchanged, so
  a movement committed late, after a refresh started, is still counted;
- a row is a function of its cycle's movements and, for debt, of the previous cycle's net
  debt: a change of cycle N's net debt marks the person's next cycle dirty (carry-forward);
- a row whose values change writes an outbox event (``cashback_ledger.changed``,
  ``debt_ledger.changed``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TypeVar

from rewardledger.domain.cycles import (
    CashbackRow,
    CycleStatus,
    DebtRow,
    DebtStatus,
    DirtyMark,
    LedgerName,
    RefreshMode,
    cashback_row,
    debt_row,
)
from rewardledger.domain.limits import CYCLE_REFRESH_BATCHES_MAX
from rewardledger.domain.money import format_minor
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.cycles.port import CycleStore, Pair

RowT = TypeVar("RowT", CashbackRow, DebtRow)


def scale_of(work: UnitOfWork, currency: str) -> int:
    asset = work.assets.get(currency)
    assert asset is not None, f"programme currency {currency} is not an asset of the tenant"
    return asset.scale


def cashback_key(row: CashbackRow) -> Pair:
    return row.account_id, row.cycle_tag


def debt_key(row: DebtRow) -> Pair:
    return row.person_id, row.cycle_tag


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


def write_changed(
    work: UnitOfWork,
    rows: Sequence[RowT],
    stored_rows: Callable[[StorageUnit, str, Pair, Pair], dict[Pair, RowT]],
    upsert: Callable[[StorageUnit, Sequence[RowT], datetime], None],
    key: Callable[[RowT], Pair],
    payload: Callable[[RowT], dict[str, object]],
    event: str,
    reached: tuple[StrEnum, str],
) -> tuple[int, dict[Pair, RowT]]:
    """Write the ``rows`` (in key order) that differ from their stored rows, each with its
    ``event``; a row whose status became ``reached``'s gets that one's event too, after the
    row's change. Return how many were written and the rows stored before."""
    stored = stored_rows(work.unit, work.tenant_id, key(rows[0]), key(rows[-1]))
    fresh = [row for row in rows if stored.get(key(row)) != row]
    upsert(work.unit, fresh, work.now)
    for row in fresh:
        work.event(event, "/".join(key(row)), payload(row))
    status, reached_event = reached
    for row in fresh:
        before = stored.get(key(row))
        if row.status is status and (before is None or before.status != row.status):
            work.event(reached_event, "/".join(key(row)), payload(row))
    return len(fresh), stored


def write_cashback_rows(
    work: UnitOfWork, store: CycleStore, rows: Sequence[CashbackRow], scale: int
) -> int:
    """Write the changed cashback rows (a cycle that closes has its own event); count them."""
    changed, _ = write_changed(
        work,
        rows,
        store.cashback_rows,
        store.upsert_cashback_rows,
        cashback_key,
        partial(cashback_event_payload, scale=scale),
        "cashback_ledger.changed",
        (CycleStatus.CLOSED, "cashback_cycle.closed"),
    )
    return changed


def write_debt_rows(
    work: UnitOfWork, store: CycleStore, rows: Sequence[DebtRow], scale: int
) -> tuple[int, dict[Pair, DebtRow]]:
    """Write the changed debt rows (debt that becomes overdue has its own event); return their
    count and the rows stored before."""
    return write_changed(
        work,
        rows,
        store.debt_rows,
        store.upsert_debt_rows,
        debt_key,
        partial(debt_event_payload, scale=scale),
        "debt_ledger.changed",
        (DebtStatus.OVERDUE, "debt.overdue"),
    )


def refresh_cashback_pair(work: UnitOfWork, store: CycleStore, account_id: str, tag: str) -> bool:
    """Recompute one cashback row in ``work``'s transaction; return whether it changed."""
    program = store.get_cashback_program(work.tenant_id, work.unit)
    if program is None:
        return False
    settings = store.get_cashback_account(work.tenant_id, account_id, work.unit)
    totals = store.cashback_totals(work.unit, account_id, tag)
    scale = scale_of(work, program.currency)
    row = cashback_row(
        account_id, tag, totals, settings, program, work.tenant.zone, work.now, scale
    )
    return write_cashback_rows(work, store, [row], scale) > 0


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
    scale = scale_of(work, program.currency)
    row = debt_row(person_id, tag, totals, carried, program, work.tenant.zone, work.now, scale)
    changed, stored = write_debt_rows(work, store, [row], scale)
    if not changed:
        return False, None
    before = stored.get(debt_key(row))
    following = None
    if before is None or before.net_debt_minor != row.net_debt_minor:
        tag_after = store.next_debt_cycle(work.unit, person_id, tag)
        if tag_after is not None:
            following = store.mark_dirty(work.unit, LedgerName.DEBT, person_id, tag_after)
    return True, following


def refresh_mark(
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


def refresh_inline(
    work: UnitOfWork, store: CycleStore, mark: DirtyMark, mode: RefreshMode | None = None
) -> int:
    """In inline mode, recompute the pair a movement marked (and, for debt, each later cycle
    whose carried debt changed) in the writing transaction, which already holds the pair's
    mark. In job mode do nothing: the mark waits for a refresh. Returns rows changed.
    ``mode``: the tenant's refresh mode when the caller read it in this unit already."""
    if mode is None:
        mode = store.get_refresh_mode(work.tenant_id, work.unit)
    if mode is not RefreshMode.INLINE:
        return 0
    store.lock_projection(work.unit, exclusive=False)
    changed = 0
    pending: DirtyMark | None = mark
    for _ in range(CYCLE_REFRESH_BATCHES_MAX):
        if pending is None:
            break
        count, pending = refresh_mark(work, store, pending)
        changed += count
    return changed
