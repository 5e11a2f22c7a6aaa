"""Moving ``cashback_movements`` into a tenant's cashback ledger, and reconciling
``cashback_ledger``.

Owns: mapping each source row (``domain.seed_migration.cashback_accrual``) to an accrual,
checked by the cashback service's ``check_accrual``, and writing it with ``accrue_within``, a
batch per unit of work (``migrate.batches``); then comparing every ``cashback_ledger.
total_cashback`` of the source with rewardledger's row for that (account, cycle). An accrual
is recorded as an override of the exact amount the old system credited (its caps already
applied), so the figures agree whatever caps rewardledger's programme has.
"""

from __future__ import annotations

from rewardledger.domain.errors import NotFound
from rewardledger.domain.seed_migration import (
    CASHBACK_LEDGER,
    CASHBACK_MOVEMENTS,
    cashback_accrual,
)
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import cycles
from rewardledger.services.cycles.cashback_movements import (
    Accrual,
    CheckedAccrual,
    accrue_within,
    check_accrual,
    fixed_program,
)
from rewardledger.services.migrate.batches import migrate_table
from rewardledger.services.migrate.points import MigrationCounts, TableCounts
from rewardledger.services.migrate.port import Row
from rewardledger.services.migrate.report import (
    Difference,
    DifferenceFiles,
    compare_rows,
    difference_of,
)
from rewardledger.services.migrate.run import MigrationRun, OnRows

SUBJECT_ACCOUNT_CYCLE = "account cycle"


def migrate_cashback(run: MigrationRun, counts: MigrationCounts, on_rows: OnRows) -> TableCounts:
    """Record every ``cashback_movements`` row as an accrual (the programme must be set)."""
    ledger, tenant_id = run.ledger, run.tenant_id
    scale = ledger.get_asset(tenant_id, fixed_program(ledger, tenant_id).currency).scale
    store = cycles.store_of(ledger)

    def map_row(row: Row) -> CheckedAccrual:
        fields = cashback_accrual(row, scale)
        request = Accrual(
            id=fields.id,
            account_id=fields.account_id,
            spend=fields.spend,
            cashback=fields.cashback,
            occurred_at=fields.occurred_at,
            cycle_tag=fields.cycle_tag,
            budget_cap=fields.budget_cap,
            override=True,
        )
        return check_accrual(ledger, tenant_id, request)

    def write_one(work: UnitOfWork, accrual: CheckedAccrual) -> bool:
        return accrue_within(store, accrual, work).replayed

    batches = run.source.cashback_movements(run.batch_size)
    return migrate_table(run, counts, CASHBACK_MOVEMENTS, batches, map_row, write_one, on_rows)


def reconcile_cashback(run: MigrationRun, files: DifferenceFiles, on_rows: OnRows) -> None:
    """Refresh the cycle ledgers' dirty rows, then compare every ``cashback_ledger`` row."""
    ledger, tenant_id = run.ledger, run.tenant_id
    cycles.refresh(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, fixed_program(ledger, tenant_id).currency).scale

    def difference(row: Row) -> Difference | None:
        account, tag = str(row["account_id"]), str(row["cycle_tag"])
        try:
            ours = cycles.get_cashback_row(ledger, tenant_id, account, tag)[0].total_cashback_minor
        except NotFound:
            ours = 0
        return difference_of(
            SUBJECT_ACCOUNT_CYCLE,
            f"{account}/{tag}",
            f"{CASHBACK_LEDGER}.total_cashback",
            row.get("total_cashback"),
            ours,
            scale,
        )

    batches = run.source.cashback_ledger(run.batch_size)
    compare_rows(batches, difference, SUBJECT_ACCOUNT_CYCLE, files, on_rows=on_rows)
