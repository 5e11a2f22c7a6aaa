"""Moving a tenant's history from the system the seeds describe (``migrate-from seeds``).

Owns (one module per group): ``port`` (the ``LegacySource`` the old tables are read through),
``points`` (``fact_accumulations`` loaded through the points import, batch by batch) and
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
from rewardledger.domain.seed_migration import ACCUMULATIONS, BALANCES
from rewardledger.ledger.engine import Ledger
from rewardledger.services.migrate.points import (
    MigrationCounts,
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
    """Migrate the seeds' points tables into ``tenant_id``, then reconcile and report.

    ``progress(label, total)`` is called once per phase and returns the callback that is
    given each batch's row count (the CLI's progress bars).
    """
    ledger.get_tenant(tenant_id)
    if not 1 <= batch_size <= MIGRATE_BATCH_SIZE:
        raise ValidationError(
            f"batch_size must be from 1 to {MIGRATE_BATCH_SIZE}.", field="batch_size"
        )
    counts = MigrationCounts()
    migrate_accumulations(
        ledger,
        tenant_id,
        source,
        counts,
        asset=asset,
        batch_size=batch_size,
        skip_bad_rows=skip_bad_rows,
        on_rows=progress(f"migrate {ACCUMULATIONS}", source.count(ACCUMULATIONS)),
    )
    reconciliation = Reconciliation()
    users = source.count(BALANCES) + source.count_users_without_balance()
    with DifferenceFiles(report_dir, tenant_id) as files:
        reconcile_users(
            ledger,
            tenant_id,
            source,
            files,
            reconciliation,
            asset=asset,
            batch_size=batch_size,
            on_rows=progress(f"reconcile {BALANCES}", users),
        )
        files.finish(reconciliation)
    return SeedMigration(tenant_id, counts, reconciliation)


__all__ = [
    "LegacySource",
    "MigrationCounts",
    "Reconciliation",
    "SeedMigration",
    "SourceBadRow",
    "TableCounts",
    "migrate_seeds",
]
