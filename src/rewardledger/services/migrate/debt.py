"""Moving ``debt_movements`` into a tenant's debt ledger, and reconciling ``debt_ledger``.

Owns: writing each batch of source rows (``domain.seed_migration.debt_changes``: one movement
per non-zero amount column) through the debt service's ``record_within``, all of a batch in
ONE unit of work, and comparing every ``debt_ledger.net_debt`` of the source with the
``debt_ledger`` row rewardledger keeps for that (person, cycle).
Protects "nothing of a batch is half-written": rows that cannot be mapped are found before
anything is written; a movement the service refuses while writing rolls the whole batch
back. A batch with a bad row writes nothing, or with ``skip_bad_rows`` is retried without it
(at most once per row of the batch). Idempotency: a movement's id derives from its source key
and column, and a replayed id is counted as already present.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rewardledger.domain.cycles import DebtKind, check_tag
from rewardledger.domain.errors import LedgerError, NotFound
from rewardledger.domain.limits import MIGRATE_BATCH_SIZE
from rewardledger.domain.money import format_minor
from rewardledger.domain.seed_migration import (
    DEBT_LEDGER,
    DEBT_MOVEMENTS,
    DebtChange,
    debt_changes,
    minor_of,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import cycles
from rewardledger.services.cycles.common import movement_id
from rewardledger.services.cycles.debt_movements import fixed_program, record_within
from rewardledger.services.migrate.points import MigrationCounts, SourceBadRow, TableCounts
from rewardledger.services.migrate.port import LegacySource, Row
from rewardledger.services.migrate.report import Difference, DifferenceFiles, Reconciliation

SUBJECT_PERSON_CYCLE = "person cycle"


def migrate_debt(
    ledger: Ledger,
    tenant_id: str,
    source: LegacySource,
    counts: MigrationCounts,
    *,
    batch_size: int = MIGRATE_BATCH_SIZE,
    skip_bad_rows: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> TableCounts:
    """Record every ``debt_movements`` row's movements (the debt programme must be set)."""
    program = fixed_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    table = TableCounts(DEBT_MOVEMENTS)
    counts.tables.append(table)
    for rows in source.debt_movements(batch_size):
        table.rows_read += len(rows)
        bad: list[SourceBadRow] = []
        mapped: list[tuple[str, list[DebtChange]]] = []
        for row in rows:
            key = str(row.get("id"))
            try:
                changes = debt_changes(row, scale)
                for change in changes:
                    movement_id(change.id)
                    if change.cycle_tag is not None:
                        check_tag(change.cycle_tag)
                mapped.append((key, changes))
            except LedgerError as error:
                bad.append(SourceBadRow(DEBT_MOVEMENTS, key, error.message))
        if not bad or skip_bad_rows:
            bad.extend(_write(ledger, tenant_id, mapped, table, skip_bad_rows=skip_bad_rows))
        if bad:
            table.bad_rows += len(bad)
            table.batches_skipped += 0 if skip_bad_rows else 1
            counts.add_bad(bad)
        if on_rows is not None:
            on_rows(len(rows))
    return table


def _write(
    ledger: Ledger,
    tenant_id: str,
    mapped: list[tuple[str, list[DebtChange]]],
    table: TableCounts,
    *,
    skip_bad_rows: bool,
) -> list[SourceBadRow]:
    """Write the batch in one unit of work; a refused row rolls it back. Returns the rows
    refused (and, with ``skip_bad_rows``, retries without each until the rest is written)."""
    program = fixed_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    store = cycles.store_of(ledger)
    refused: list[SourceBadRow] = []
    current = [""]

    def use_case(work: UnitOfWork) -> tuple[int, int]:
        imported = present = 0
        for key, changes in mapped:
            current[0] = key
            replays = [
                record_within(
                    work,
                    store,
                    program,
                    scale,
                    identifier=c.id,
                    person_id=c.person_id,
                    kind=DebtKind(c.kind),
                    amount_minor=c.amount_minor,
                    cycle_tag=c.cycle_tag,
                    due_at=None,
                    occurred_at=c.occurred_at,
                    source_account_id=None,
                )[1]
                for c in changes
            ]
            imported, present = imported + (not all(replays)), present + all(replays)
        return imported, present

    for _ in range(len(mapped) + 1):
        try:
            imported, present = ledger.run(tenant_id, use_case)
        except LedgerError as error:
            refused.append(SourceBadRow(DEBT_MOVEMENTS, current[0], error.message))
            if not skip_bad_rows:
                return refused
            mapped = [(k, c) for k, c in mapped if k != current[0]]
            continue
        table.imported += imported
        table.already_present += present
        break
    return refused


def _compare(
    ledger: Ledger, tenant_id: str, scale: int, rows: Sequence[Row], files: DifferenceFiles
) -> tuple[int, int]:
    """(compared, differing) of one batch of ``debt_ledger`` rows. A row without a cycle tag
    (seed 001: "the current cycle") is not compared: rewardledger tags every movement."""
    compared = differing = 0
    for row in rows:
        person, tag = str(row["person_id"]), row.get("cycle_tag")
        if tag is None:
            continue
        compared += 1
        try:
            ours = cycles.get_debt_row(ledger, tenant_id, person, str(tag))[0].net_debt_minor
        except NotFound:
            ours = 0
        old = minor_of(row["net_debt"], scale, "net_debt")
        if old != ours:
            differing += 1
            files.write(
                Difference(
                    SUBJECT_PERSON_CYCLE,
                    f"{person}/{tag}",
                    f"{DEBT_LEDGER}.net_debt",
                    format_minor(old, scale),
                    format_minor(ours, scale),
                    format_minor(ours - old, scale),
                )
            )
    return compared, differing


def reconcile_debt(
    ledger: Ledger,
    tenant_id: str,
    source: LegacySource,
    files: DifferenceFiles,
    reconciliation: Reconciliation,
    *,
    batch_size: int = MIGRATE_BATCH_SIZE,
    on_rows: Callable[[int], None] | None = None,
) -> None:
    """Refresh the debt ledger's dirty rows, then compare every ``debt_ledger`` row."""
    cycles.refresh(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, fixed_program(ledger, tenant_id).currency).scale
    compared = differing = 0
    for rows in source.debt_ledger(batch_size):
        done, differ = _compare(ledger, tenant_id, scale, rows, files)
        compared, differing = compared + done, differing + differ
        if on_rows is not None:
            on_rows(len(rows))
    reconciliation.compared[SUBJECT_PERSON_CYCLE] = compared
    reconciliation.differing[SUBJECT_PERSON_CYCLE] = differing
