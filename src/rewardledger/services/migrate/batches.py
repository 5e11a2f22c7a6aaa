"""Writing a table's batches of source rows through a service, one unit of work per batch.

Owns: the loop the cycle tables share (debt and cashback movements): map every row of a batch
with a pure function (a row that cannot be mapped is bad, found before anything is written),
then write the batch's items in ONE unit of work through the service's ``..._within``
function. Protects "nothing of a batch is half-written": an item the service refuses while
writing rolls the whole unit back. Without ``skip_bad_rows`` a batch with a bad row writes
nothing; with it, the batch is retried without each refused row (at most once per row) and
the unmappable rows are left out. Replays (an id already stored) count as already present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from rewardledger.domain.errors import LedgerError
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.migrate.points import MigrationCounts, SourceBadRow, TableCounts
from rewardledger.services.migrate.port import Row
from rewardledger.services.migrate.run import MigrationRun, OnRows

T = TypeVar("T")
# Writes one source row's items in the unit; True when every one was a replay.
WriteOne = Callable[[UnitOfWork, T], bool]


def migrate_table(
    run: MigrationRun,
    counts: MigrationCounts,
    name: str,
    batches: Iterator[list[Row]],
    map_row: Callable[[Row], T],
    write_one: WriteOne[T],
    on_rows: OnRows,
) -> TableCounts:
    """Every batch of table ``name``, mapped with ``map_row`` and written with ``write_one``."""
    skip_bad_rows = run.skip_bad_rows
    table = TableCounts(name)
    counts.tables.append(table)
    for rows in batches:
        table.rows_read += len(rows)
        bad: list[SourceBadRow] = []
        mapped: list[tuple[str, T]] = []
        for row in rows:
            key = str(row.get("id"))
            try:
                mapped.append((key, map_row(row)))
            except LedgerError as error:
                bad.append(SourceBadRow(table.table, key, error.message))
        if not bad or skip_bad_rows:
            bad.extend(_write(run, table, mapped, write_one))
        if bad:
            table.bad_rows += len(bad)
            table.batches_skipped += 0 if skip_bad_rows else 1
            counts.add_bad(bad)
        if on_rows is not None:
            on_rows(len(rows))
    return table


def _write(
    run: MigrationRun,
    table: TableCounts,
    mapped: Sequence[tuple[str, T]],
    write_one: WriteOne[T],
) -> list[SourceBadRow]:
    """The batch in one unit of work; the rows the service refused (see the module)."""
    refused: list[SourceBadRow] = []
    current = [""]

    def use_case(work: UnitOfWork) -> tuple[int, int]:
        imported = present = 0
        for key, item in mapped:
            current[0] = key
            if write_one(work, item):
                present += 1
            else:
                imported += 1
        return imported, present

    for _ in range(len(mapped) + 1):
        try:
            imported, present = run.ledger.run(run.tenant_id, use_case)
        except LedgerError as error:
            refused.append(SourceBadRow(table.table, current[0], error.message))
            if not run.skip_bad_rows:
                return refused
            mapped = [(k, item) for k, item in mapped if k != current[0]]
            continue
        table.imported += imported
        table.already_present += present
        break
    return refused
