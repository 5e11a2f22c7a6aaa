"""Refresh, rebuild and the due-jobs step of the cycle ledgers.

Owns: the batch loops that keep ``cashback_ledger`` and ``debt_ledger`` in step with the
movements. A rebuild batch is computed in the database where the store can
(``CycleStore.rebuilds_in_sets``: PostgreSQL, one statement per batch after its keys, planned
by ``domain.cycle_batches``), else row by row with ``cashback_row`` / ``debt_row`` (SQLite,
and ``rebuild_row_by_row``, the reference the set-based batches are tested against).
Protects: a full rebuild gives the same rows as any sequence of refreshes (a property test);
a rebuild batch holds the projection lock exclusively, so no refresh writes a row between
its read and its write; each loop stops after a named number of batches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

from rewardledger.domain.cycle_batches import plan_cashback_batch, plan_debt_batch
from rewardledger.domain.cycles import cashback_cycle_closes_at, cashback_row, debt_row
from rewardledger.domain.limits import (
    CYCLE_REBUILD_BATCH_SIZE,
    CYCLE_REFRESH_BATCH_SIZE,
    CYCLE_REFRESH_BATCHES_MAX,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.cycles.port import CycleStore, Pair, Progress, store_of
from rewardledger.services.cycles.projection import (
    refresh_mark,
    scale_of,
    write_cashback_rows,
    write_debt_rows,
)
from rewardledger.services.cycles.views import RefreshReport

S = TypeVar("S")
# A debt rebuild's position: the last pair written and the (person, net debt) it carries on.
DebtPosition = tuple[Pair, tuple[str, int]]


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
        return len(marks), sum(refresh_mark(work, store, mark)[0] for mark in marks)

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
    """Recompute the running cashback totals, then every row from the movements, a keyset
    batch of pairs per transaction (memory stays flat). Each batch holds the projection lock
    exclusively, so no refresh writes a row between its read and its write; a movement
    committed meanwhile keeps its dirty mark. Only rows that changed are written, each with
    its event."""
    in_sets = store_of(ledger).rebuilds_in_sets
    return _rebuild(ledger, tenant_id, batch_size, progress, in_sets=in_sets)


def rebuild_row_by_row(
    ledger: Ledger,
    tenant_id: str,
    *,
    batch_size: int = CYCLE_REBUILD_BATCH_SIZE,
    progress: Progress | None = None,
) -> RefreshReport:
    """``rebuild`` with every row computed in Python by the domain's ``cashback_row`` and
    ``debt_row`` (what SQLite always does): the reference for the set-based batches."""
    return _rebuild(ledger, tenant_id, batch_size, progress, in_sets=False)


def _rebuild(
    ledger: Ledger,
    tenant_id: str,
    batch_size: int,
    progress: Progress | None,
    *,
    in_sets: bool,
) -> RefreshReport:
    assert 1 <= batch_size <= CYCLE_REBUILD_BATCH_SIZE, batch_size
    store = store_of(ledger)

    def totals(work: UnitOfWork) -> None:
        store.lock_projection(work.unit, exclusive=True)
        store.rebuild_cashback_totals(work.unit)

    ledger.run(tenant_id, totals)  # the running totals accruals read their caps from
    cashback_batch = _cashback_set_batch if in_sets else _cashback_batch
    debt_batch = _debt_set_batch if in_sets else _debt_batch
    cashback = _batches(ledger, tenant_id, partial(cashback_batch, store, batch_size), progress)
    # Debt: pairs come in (person, cycle) order, so the previous cycle's net is at hand.
    debt = _batches(ledger, tenant_id, partial(debt_batch, store, batch_size), progress)
    return RefreshReport(cashback.pairs + debt.pairs, cashback.rows_changed + debt.rows_changed)


def _batches(
    ledger: Ledger,
    tenant_id: str,
    batch: Callable[[S | None, UnitOfWork], tuple[S | None, int, int]],
    progress: Progress | None,
) -> RefreshReport:
    """Run ``batch`` a transaction at a time, each from where the last stopped, until done."""
    pairs = changed = 0
    position: S | None = None
    while True:
        position, taken, fresh = ledger.run(tenant_id, partial(batch, position))
        pairs, changed = pairs + taken, changed + fresh
        if progress is not None and taken:
            progress(taken)
        if position is None:
            return RefreshReport(pairs, changed)


def _cashback_batch(
    store: CycleStore, batch_size: int, after: Pair | None, work: UnitOfWork
) -> tuple[Pair | None, int, int]:
    store.lock_projection(work.unit, exclusive=True)
    program = store.get_cashback_program(work.tenant_id, work.unit)
    found = store.cashback_pair_totals(work.unit, after, batch_size)
    if not found or program is None:
        return None, 0, 0
    scale = scale_of(work, program.currency)
    settings = store.cashback_accounts_settings(work.unit, [a for a, _, _ in found])
    zone = work.tenant.zone
    rows = [
        cashback_row(account, tag, totals, settings.get(account), program, zone, work.now, scale)
        for account, tag, totals in found
    ]
    fresh = write_cashback_rows(work, store, rows, scale)
    return (found[-1][0], found[-1][1]), len(found), fresh


def _debt_batch(
    store: CycleStore, batch_size: int, position: DebtPosition | None, work: UnitOfWork
) -> tuple[DebtPosition | None, int, int]:
    store.lock_projection(work.unit, exclusive=True)
    program = store.get_debt_program(work.tenant_id, work.unit)
    after, carried = (None, None) if position is None else position
    found = store.debt_pair_totals(work.unit, after, batch_size)
    if not found or program is None:
        return None, 0, 0
    scale = scale_of(work, program.currency)
    rows = []
    for person, tag, totals in found:
        net_before = carried[1] if carried is not None and carried[0] == person else 0
        row = debt_row(person, tag, totals, net_before, program, work.tenant.zone, work.now, scale)
        rows.append(row)
        carried = (person, row.net_debt_minor)
    assert carried is not None
    fresh, _ = write_debt_rows(work, store, rows, scale)
    return ((found[-1][0], found[-1][1]), carried), len(found), fresh


def _cashback_set_batch(
    store: CycleStore, batch_size: int, after: Pair | None, work: UnitOfWork
) -> tuple[Pair | None, int, int]:
    store.lock_projection(work.unit, exclusive=True)
    program = store.get_cashback_program(work.tenant_id, work.unit)
    pairs = [] if program is None else store.cashback_pairs_after(work.unit, after, batch_size)
    if not pairs or program is None:
        return None, 0, 0
    scale = scale_of(work, program.currency)
    batch = plan_cashback_batch(work.tenant_id, pairs, program, work.tenant.zone, work.now, scale)
    # A batch short of ``batch_size`` was the last: no transaction more to find none.
    following = pairs[-1] if len(pairs) == batch_size else None
    return following, len(pairs), store.write_cashback_batch(work.unit, batch)


def _debt_set_batch(
    store: CycleStore, batch_size: int, position: DebtPosition | None, work: UnitOfWork
) -> tuple[DebtPosition | None, int, int]:
    store.lock_projection(work.unit, exclusive=True)
    program = store.get_debt_program(work.tenant_id, work.unit)
    after, carried = (None, None) if position is None else position
    pairs = [] if program is None else store.debt_pairs_after(work.unit, after, batch_size)
    if not pairs or program is None:
        return None, 0, 0
    scale = scale_of(work, program.currency)
    zone = work.tenant.zone
    batch = plan_debt_batch(work.tenant_id, pairs, program, zone, work.now, scale, carried)
    fresh, last_net = store.write_debt_batch(work.unit, batch)
    if len(pairs) < batch_size:  # the last batch
        return None, len(pairs), fresh
    return (pairs[-1], (pairs[-1][0], last_net)), len(pairs), fresh


def run_due(ledger: Ledger, tenant_id: str) -> dict[str, int]:
    """The due-jobs step: mark cashback cycles past their grace and unpaid debt past its due
    date (plus grace) dirty, then refresh every dirty pair. Safe to run twice or at once.

    Marking is one set-based statement per ledger; the refresh that follows is what works in
    batches (CYCLE_REFRESH_BATCH_SIZE pairs per transaction)."""
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
