"""Moving ``fact_accumulations`` into a tenant's points ledger, batch by batch.

Owns: turning each batch of source rows into rows of the points import
(``domain.seed_migration.accumulation_record``) and loading the batch through the existing
import service (``services.points.importing.import_history``), one transaction per batch.
Protects: idempotency (a row's transfer id is derived from its source key) and "nothing of a
batch is half-written": the import checks every row in the domain before it writes (fields,
dtype, sign, and the lots a spend needs), and a batch with a bad row writes nothing (or, with
``skip_bad_rows``, writes its good rows only). Bad rows are reported with their source table
and key; fix them at the source and run again: what was written is found and skipped, the
rest is loaded. A skipped batch's earns are missing until then, so later spends of the same
users may be refused too (they are reported as well, and load on the next run).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardledger.domain.errors import LedgerError
from rewardledger.domain.limits import MIGRATE_BAD_ROWS_LISTED_MAX
from rewardledger.domain.seed_migration import ACCUMULATIONS, accumulation_record
from rewardledger.services.migrate.port import Row
from rewardledger.services.migrate.run import MigrationRun, OnRows
from rewardledger.services.points.catalogue import asset_policy
from rewardledger.services.points.importing import import_history


@dataclass(frozen=True, slots=True)
class SourceBadRow:
    """A source row that was not migrated: where it is, and why."""

    table: str
    key: str
    message: str


@dataclass(slots=True)
class TableCounts:
    """What a migration did with one source table's rows."""

    table: str
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    bad_rows: int = 0
    batches_skipped: int = 0


@dataclass(frozen=True, slots=True)
class SkippedTable:
    """A source table the migration found and, by design, does not move: and why."""

    table: str
    rows: int
    why: str


@dataclass(slots=True)
class MigrationCounts:
    """Every table's counts, the first ``MIGRATE_BAD_ROWS_LISTED_MAX`` bad rows and the
    tables found but not moved."""

    tables: list[TableCounts] = field(default_factory=list)
    bad: list[SourceBadRow] = field(default_factory=list)
    skipped: list[SkippedTable] = field(default_factory=list)

    def add_bad(self, rows: Sequence[SourceBadRow]) -> None:
        room = MIGRATE_BAD_ROWS_LISTED_MAX - len(self.bad)
        self.bad.extend(rows[: max(room, 0)])

    @property
    def bad_rows(self) -> int:
        return sum(t.bad_rows for t in self.tables)


def migrate_accumulations(
    run: MigrationRun, counts: MigrationCounts, on_rows: OnRows
) -> TableCounts:
    """Load every ``fact_accumulations`` row into the run's asset's holders.

    A batch with a bad row writes nothing, unless ``skip_bad_rows``: then the import's domain
    checks leave the bad rows out and the batch's good rows are written, still in one
    transaction. Either way every row not written is reported by key.
    """
    # Not a points asset: say which command makes it one.
    asset_policy(run.ledger, run.tenant_id, run.asset)
    scale = run.ledger.get_asset(run.tenant_id, run.asset).scale
    table = TableCounts(ACCUMULATIONS)
    counts.tables.append(table)
    for rows in run.source.accumulations(run.batch_size):
        _load_batch(run, scale, rows, table, counts)
        if on_rows is not None:
            on_rows(len(rows))
    return table


def _load_batch(
    run: MigrationRun, scale: int, rows: Sequence[Row], table: TableCounts, counts: MigrationCounts
) -> None:
    """One batch: map its rows (a row that cannot be mapped is bad), then import the batch
    as one stream of JSON lines in one transaction (none when a row is bad and not skipped)."""
    keys = [str(row.get("id")) for row in rows]
    lines: list[str] = []
    unmapped: dict[int, str] = {}  # line -> why the row could not be mapped
    for line, row in enumerate(rows, start=1):
        try:
            record: dict[str, Any] = accumulation_record(row, scale)
        except LedgerError as error:
            unmapped[line] = error.message
            lines.append("null")  # a line the import refuses, so that it loads nothing
            continue
        lines.append(json.dumps(record))
    table.rows_read += len(rows)
    stream = io.StringIO("\n".join(lines) + "\n")
    report = import_history(
        run.ledger, run.tenant_id, stream, asset=run.asset, skip_bad_rows=run.skip_bad_rows
    )
    table.imported += report.imported
    table.already_present += report.already_present
    if report.bad_rows == 0:
        return
    bad = [
        SourceBadRow(ACCUMULATIONS, keys[b.line - 1], unmapped.get(b.line, b.message))
        for b in report.bad
    ]
    table.bad_rows += report.bad_rows
    table.batches_skipped += report.batches_skipped
    counts.add_bad(bad)
