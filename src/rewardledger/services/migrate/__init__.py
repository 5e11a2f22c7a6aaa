"""Moving a tenant's history from the system the seeds describe (``migrate-from seeds``).

Owns (one module per group): ``port`` (the ``LegacySource`` the old tables are read through),
``run`` (the ``MigrationRun`` every step below is given, so the loops here call them alike),
``points`` (``fact_accumulations`` loaded through the points import, batch by batch),
``debt`` and ``cashback`` (their movements through the cycle services, a batch per unit of
work by ``batches``, and their cycle ledgers reconciled), ``budgets`` (seed 002's budgets and
their ``ledger_entries`` through the budget services, the same way, and every budget's
``balance`` reconciled) and
``report`` (the reconciliation of the old system's materialized figures with ours). The pure
mapping of a source row to our requests is ``domain.seed_migration``; the PostgreSQL reader
is ``storage.legacy_seeds``. Protects: idempotency (every migrated item's id derives from its
source key: a second run imports nothing), "nothing of a batch is half-written" (one
transaction per batch, none if a row of it is bad) and flat memory (streamed in batches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import MIGRATE_BATCH_SIZE
from rewardledger.domain.seed_migration import (
    ACCUMULATIONS,
    BALANCES,
    BUDGET_ENTRIES,
    BUDGETS,
    CASHBACK_LEDGER,
    CASHBACK_MOVEMENTS,
    DEBT_LEDGER,
    DEBT_MOVEMENTS,
    REDEMPTIONS,
    REDEMPTIONS_SKIPPED,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.services.cycles import cashback_movements, debt_movements
from rewardledger.services.migrate.budgets import (
    migrate_budget_entries,
    migrate_budgets,
    reconcile_budgets,
)
from rewardledger.services.migrate.cashback import migrate_cashback, reconcile_cashback
from rewardledger.services.migrate.debt import migrate_debt, reconcile_debt
from rewardledger.services.migrate.points import (
    MigrationCounts,
    SkippedTable,
    SourceBadRow,
    TableCounts,
    migrate_accumulations,
)
from rewardledger.services.migrate.port import LegacySource
from rewardledger.services.migrate.report import (
    DifferenceFiles,
    Reconciliation,
    reconcile_users,
)
from rewardledger.services.migrate.run import MigrationRun
from rewardledger.services.points.views import DEFAULT_ASSET

Progress = Callable[[str, int | None], Callable[[int], None]]


@dataclass(frozen=True, slots=True)
class SeedMigration:
    """What a run did: per table counts, the bad rows by key, and the reconciliation."""

    tenant_id: str
    counts: MigrationCounts
    reconciliation: Reconciliation

    @property
    def ok(self) -> bool:
        return self.counts.bad_rows == 0 and self.reconciliation.difference_count == 0


def _no_progress(label: str, total: int | None) -> Callable[[int], None]:
    return lambda count: None


def migrate_seeds(
    ledger: Ledger,
    tenant_id: str,
    source: LegacySource,
    report_dir: Path,
    *,
    asset: str = DEFAULT_ASSET,
    batch_size: int = MIGRATE_BATCH_SIZE,
    skip_bad_rows: bool = False,
    progress: Progress = _no_progress,
) -> SeedMigration:
    """Migrate the seeds' points (and, where present, debt, cashback and budget) tables into
    ``tenant_id``, then reconcile and report.

    ``progress(label, total)`` is called once per phase and returns the callback that is
    given each batch's row count (the CLI's progress bars).
    """
    ledger.get_tenant(tenant_id)
    if not 1 <= batch_size <= MIGRATE_BATCH_SIZE:
        raise ValidationError(
            f"batch_size must be from 1 to {MIGRATE_BATCH_SIZE}.", field="batch_size"
        )
    # No programme for a table the source has: say so before anything is written.
    if source.has(DEBT_MOVEMENTS) or source.has(DEBT_LEDGER):
        debt_movements.fixed_program(ledger, tenant_id)
    if source.has(CASHBACK_MOVEMENTS) or source.has(CASHBACK_LEDGER):
        cashback_movements.fixed_program(ledger, tenant_id)
    run = MigrationRun(ledger, tenant_id, source, asset, batch_size, skip_bad_rows)
    counts = MigrationCounts()
    migrate_accumulations(
        run, counts, progress(f"migrate {ACCUMULATIONS}", source.count(ACCUMULATIONS))
    )
    # The budgets before their entries: an entry of a budget not created is a bad row.
    for table, step in (
        (DEBT_MOVEMENTS, migrate_debt),
        (CASHBACK_MOVEMENTS, migrate_cashback),
        (BUDGETS, migrate_budgets),
        (BUDGET_ENTRIES, migrate_budget_entries),
    ):
        if source.has(table):
            step(run, counts, progress(f"migrate {table}", source.count(table)))
    if source.has(REDEMPTIONS):
        counts.skipped.append(
            SkippedTable(REDEMPTIONS, source.count(REDEMPTIONS), REDEMPTIONS_SKIPPED)
        )
    return SeedMigration(tenant_id, counts, _reconcile(run, report_dir, progress))


def _reconcile(run: MigrationRun, report_dir: Path, progress: Progress) -> Reconciliation:
    """Every user (and, where the source has them, every person cycle, account cycle and
    budget) compared,
    the differences written to ``report_dir`` as they are found."""
    source = run.source
    users = source.count(BALANCES) + source.count_users_without_balance()
    with DifferenceFiles(report_dir, run.tenant_id) as files:
        reconcile_users(run, files, progress(f"reconcile {BALANCES}", users))
        for table, reconcile in (
            (DEBT_LEDGER, reconcile_debt),
            (CASHBACK_LEDGER, reconcile_cashback),
            (BUDGETS, reconcile_budgets),
        ):
            if source.has(table):
                reconcile(run, files, progress(f"reconcile {table}", source.count(table)))
        return files.finish()


__all__ = [
    "LegacySource",
    "MigrationCounts",
    "Reconciliation",
    "SeedMigration",
    "SkippedTable",
    "SourceBadRow",
    "TableCounts",
    "migrate_seeds",
]
