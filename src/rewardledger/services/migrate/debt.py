"""Moving ``debt_movements`` into a tenant's debt ledger, and reconciling ``debt_ledger``.

Owns: mapping each source row (``domain.seed_migration.debt_changes``: one movement per
non-zero amount column) and writing it through the debt service's ``record_within``, a batch
per unit of work (``migrate.batches``), and comparing every ``debt_ledger.net_debt`` of the
source with the ``debt_ledger`` row rewardledger keeps for that (person, cycle).
Idempotency: a movement's id derives from its source key and column.
"""

from __future__ import annotations

from rewardledger.domain.cycles import DebtKind, check_tag
from rewardledger.domain.errors import NotFound
from rewardledger.domain.seed_migration import (
    DEBT_LEDGER,
    DEBT_MOVEMENTS,
    DebtChange,
    debt_changes,
)
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import cycles
from rewardledger.services.cycles.common import movement_id
from rewardledger.services.cycles.debt_movements import (
    CheckedDebt,
    fixed_program,
    record_within,
)
from rewardledger.services.migrate.batches import migrate_table
from rewardledger.services.migrate.points import MigrationCounts, TableCounts
from rewardledger.services.migrate.port import Row
from rewardledger.services.migrate.report import (
    SKIPPED,
    Difference,
    DifferenceFiles,
    Skip,
    compare_rows,
    difference_of,
)
from rewardledger.services.migrate.run import MigrationRun, OnRows

SUBJECT_PERSON_CYCLE = "person cycle"


def migrate_debt(run: MigrationRun, counts: MigrationCounts, on_rows: OnRows) -> TableCounts:
    """Record every ``debt_movements`` row's movements (the debt programme must be set)."""
    program = fixed_program(run.ledger, run.tenant_id)
    scale = run.ledger.get_asset(run.tenant_id, program.currency).scale
    store = cycles.store_of(run.ledger)

    def map_row(row: Row) -> list[DebtChange]:
        changes = debt_changes(row, scale)
        for change in changes:
            movement_id(change.id)
            if change.cycle_tag is not None:
                check_tag(change.cycle_tag)
        return changes

    def write_one(work: UnitOfWork, changes: list[DebtChange]) -> bool:
        replays = [
            record_within(work, store, program, scale, _checked(change))[1] for change in changes
        ]
        return all(replays)

    batches = run.source.debt_movements(run.batch_size)
    return migrate_table(run, counts, DEBT_MOVEMENTS, batches, map_row, write_one, on_rows)


def _checked(change: DebtChange) -> CheckedDebt:
    """A source movement as the debt service writes it (``map_row`` checked its id and tag)."""
    return CheckedDebt(
        change.id,
        change.person_id,
        DebtKind(change.kind),
        change.amount_minor,
        change.cycle_tag,
        due_at=None,
        occurred_at=change.occurred_at,
    )


def reconcile_debt(run: MigrationRun, files: DifferenceFiles, on_rows: OnRows) -> None:
    """Refresh the debt ledger's dirty rows, then compare every ``debt_ledger`` row."""
    ledger, tenant_id = run.ledger, run.tenant_id
    cycles.refresh(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, fixed_program(ledger, tenant_id).currency).scale

    def difference(row: Row) -> Difference | Skip | None:
        # A row without a cycle tag (seed 001: "the current cycle") is not compared:
        # rewardledger tags every movement.
        person, tag = str(row["person_id"]), row.get("cycle_tag")
        if tag is None:
            return SKIPPED
        try:
            ours = cycles.get_debt_row(ledger, tenant_id, person, str(tag))[0].net_debt_minor
        except NotFound:
            ours = 0
        return difference_of(
            SUBJECT_PERSON_CYCLE,
            f"{person}/{tag}",
            f"{DEBT_LEDGER}.net_debt",
            row.get("net_debt"),
            ours,
            scale,
        )

    batches = run.source.debt_ledger(run.batch_size)
    compare_rows(batches, difference, SUBJECT_PERSON_CYCLE, files, on_rows=on_rows)
