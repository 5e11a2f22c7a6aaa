"""SQL storage of the cashback and debt cycles (implements ``services.cycles.CycleStore``).

Owns: the statements on the tables of ``schema_cycles``, one module per part: ``settings``
(programmes, refresh mode), ``dirty`` (dirty marks, projection lock), ``movements``, ``totals``,
``rows`` (the ledger rows) and ``batches`` (a rebuild batch in one statement, PostgreSQL);
``base`` holds the shared plumbing. Protects:
- the cap check of an accrual: ``mark_dirty`` is an upsert, so on PostgreSQL it locks the
  (account, cycle) pair until commit; concurrent accruals on one pair queue behind it, and the
  totals read after it include every accrual committed before (SQLite: one writer at a time);
- late commits are never lost: ``take_dirty`` locks the marks it returns (skipping marks an
  in-flight writer holds) and ``clear_dirty`` deletes a mark only if its token is still the one
  read, so a mark set again by a writer survives for the next refresh;
- ``lock_projection`` lets a rebuild batch exclude refreshes (PostgreSQL advisory lock; shared
  for refreshes, exclusive for rebuilds) so that a rebuild never writes over a fresher row.
"""

from __future__ import annotations

from rewardledger.storage.cycles.accruals import AccrualsSql
from rewardledger.storage.cycles.batches import BatchesSql
from rewardledger.storage.cycles.dirty import DirtySql
from rewardledger.storage.cycles.movements import MovementsSql
from rewardledger.storage.cycles.rows import RowsSql
from rewardledger.storage.cycles.settings import SettingsSql
from rewardledger.storage.cycles.totals import TotalsSql
from rewardledger.storage.tenancy import scoped_by_tenant


@scoped_by_tenant
class SqlCycleStore(
    AccrualsSql, SettingsSql, DirtySql, MovementsSql, TotalsSql, RowsSql, BatchesSql
):
    """Every cycle statement, on one engine (SQLite or PostgreSQL)."""


__all__ = ["SqlCycleStore"]
