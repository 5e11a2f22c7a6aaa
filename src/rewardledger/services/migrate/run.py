"""What every step of one ``migrate_seeds`` run is given: the ``MigrationRun``.

Owns: the run's context (the ledger and tenant written, the source read, the points asset,
the batch size, whether bad rows are skipped), so that every migration step the loop in
``services.migrate`` calls takes ``(run, counts, on_rows)`` and every reconciliation step
``(run, files, on_rows)``, whatever table it moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rewardledger.domain.limits import MIGRATE_BATCH_SIZE
from rewardledger.ledger.engine import Ledger
from rewardledger.services.migrate.port import LegacySource
from rewardledger.services.points.views import DEFAULT_ASSET

# Told each batch's row count, for a progress display; None: nobody is watching.
OnRows = Callable[[int], None] | None


@dataclass(frozen=True, slots=True)
class MigrationRun:
    """One run's settings: the tenant written, the source read and how it is read."""

    ledger: Ledger
    tenant_id: str
    source: LegacySource
    asset: str = DEFAULT_ASSET
    batch_size: int = MIGRATE_BATCH_SIZE
    skip_bad_rows: bool = False
