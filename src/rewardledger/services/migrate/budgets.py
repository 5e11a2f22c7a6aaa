"""Moving seed 002's ``budgets`` and their ``ledger_entries`` into a tenant's budgets, and
reconciling each budget's materialized ``balance``.

Owns: the budgets (each created through the budget service's ``create_within``, funded on
demand: seed 003's top-ups are audit records the old system's reserves never waited for) and
the entries (each written through the budget service's per-entry ``..._within`` call, a batch
per unit of work by ``migrate.batches``): ``fund`` a top-up, ``reserve`` a reservation of the
issuance ``ref_id``, ``charge`` its charge, ``release`` its release, ``reverse`` a correction
of the fund or charge entry named by ``ref_id``. Then every budget's ``balance`` (seed 003:
reserved - released) is compared with rewardledger's seed balance of the budget's current
period (``used``). Entries are written at the time of the migration, into each budget's
current period: the old ``created_at`` orders them, it does not date them.
"""

from __future__ import annotations

from rewardledger.domain.budgets import (
    BUILT_IN_CURRENCIES,
    BUILT_IN_CURRENCY_SCALE,
    BudgetPolicy,
    charge_id,
    fund_id,
)
from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.money import Amount
from rewardledger.domain.seed_budgets import (
    MIGRATION_ACTOR,
    BudgetEntryFields,
    budget_entry,
    budget_fields,
    reversed_entry_key,
)
from rewardledger.domain.seed_migration import BUDGET_ENTRIES, BUDGETS
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.corrections import correct_within
from rewardledger.services.budgets.funding import topup_within
from rewardledger.services.budgets.port import BudgetStore, store_of
from rewardledger.services.budgets.reports import utilization
from rewardledger.services.budgets.reservations import (
    ReserveRefused,
    charge_within,
    release_within,
    reserve_within,
)
from rewardledger.services.budgets.setup import (
    BudgetTerms,
    budget_policy,
    create_within,
    get_budget,
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

SUBJECT_BUDGET = "budget"
FUNDING = "on_demand"


def _scale(ledger: Ledger, tenant_id: str, currency: str) -> int:
    """The currency's scale: a built-in one (USD, ZWG) before its asset exists has 2."""
    if currency in BUILT_IN_CURRENCIES and currency not in ledger.assets(tenant_id):
        return BUILT_IN_CURRENCY_SCALE
    return ledger.get_asset(tenant_id, currency).scale


def migrate_budgets(run: MigrationRun, counts: MigrationCounts, on_rows: OnRows) -> TableCounts:
    """Create every ``budgets`` row as a budget of the same id, caps and period."""
    ledger, tenant_id = run.ledger, run.tenant_id
    store = store_of(ledger)

    def map_row(row: Row) -> BudgetPolicy:
        currency = str(row.get("currency") or "").strip().upper()
        fields = budget_fields(row, _scale(ledger, tenant_id, currency))
        terms = BudgetTerms(
            currency=fields.currency,
            hard_cap=fields.hard_cap,
            soft_cap=fields.soft_cap,
            period=fields.period,
            funding=FUNDING,
        )
        return budget_policy(ledger, tenant_id, fields.id, terms)

    def write_one(work: UnitOfWork, wanted: BudgetPolicy) -> bool:
        return create_within(store, wanted, work)[1]

    batches = run.source.budgets(run.batch_size)
    return migrate_table(run, counts, BUDGETS, batches, map_row, write_one, on_rows)


def _reversed_transfer(store: BudgetStore, work: UnitOfWork, entry: BudgetEntryFields) -> str:
    """The transfer a ``reverse`` entry corrects: the fund or charge migrated from the entry
    its ``ref_id`` names, in the same budget."""
    key = reversed_entry_key(str(entry.reference))
    for transfer_id in (fund_id(entry.budget_id, key), charge_id(entry.budget_id, key)):
        if store.journal_row(work.unit, work.tenant_id, transfer_id) is not None:
            return transfer_id
    raise ValidationError(
        f"the reverse names ref_id {entry.reference!r}, which is no fund or charge entry "
        f"migrated into budget {entry.budget_id!r} before it.",
        field="ref_id",
    )


def write_entry(store: BudgetStore, work: UnitOfWork, entry: BudgetEntryFields) -> bool:
    """One entry through its budget call in ``work``; True when it was written before."""
    budget, reference = entry.budget_id, str(entry.reference)
    if entry.kind == "fund":
        return topup_within(store, budget, entry.amount, entry.currency, entry.key, work).replayed
    if entry.kind == "reserve":
        try:
            held = reserve_within(
                store, budget, reference, entry.amount, entry.currency, None, None, work
            )
        except ReserveRefused as refused:
            raise refused.rejection from None
        return held.replayed
    if entry.kind == "charge":
        return charge_within(store, budget, reference, entry.amount, entry.key, work).replayed
    if entry.kind == "release":
        released = release_within(store, budget, reference, work)
        if Amount.parse(released.amount, entry.scale).minor != entry.amount_minor:
            raise ValidationError(
                f"the release of {entry.amount} is not the reservation's {released.amount}: "
                "rewardledger releases a reservation whole.",
                field="amount",
            )
        return released.replayed
    reverses = _reversed_transfer(store, work, entry)
    note = f"{BUDGET_ENTRIES} entry migrated from the old system"
    return correct_within(
        store, budget, reverses, note, MIGRATION_ACTOR, entry.key, entry.amount, work
    ).replayed


def migrate_budget_entries(
    run: MigrationRun, counts: MigrationCounts, on_rows: OnRows
) -> TableCounts:
    """Write every ``ledger_entries`` row through its budget call, by ``created_at`` then key."""
    store = store_of(run.ledger)
    scales: dict[str, int] = {}

    def map_row(row: Row) -> BudgetEntryFields:
        currency = str(row.get("currency") or "").strip().upper()
        if currency not in scales:
            scales[currency] = _scale(run.ledger, run.tenant_id, currency)
        return budget_entry(row, scales[currency])

    def write_one(work: UnitOfWork, entry: BudgetEntryFields) -> bool:
        return write_entry(store, work, entry)

    batches = run.source.budget_entries(run.batch_size)
    return migrate_table(run, counts, BUDGET_ENTRIES, batches, map_row, write_one, on_rows)


def reconcile_budgets(run: MigrationRun, files: DifferenceFiles, on_rows: OnRows) -> None:
    """Every ``budgets.balance`` beside the seed balance (``used``) of the budget's current
    period; a budget that was not migrated is 0 here."""
    ledger, tenant_id = run.ledger, run.tenant_id

    def difference(row: Row) -> Difference | None:
        budget = str(row.get("id"))
        currency = str(row.get("currency") or "").strip().upper()
        try:
            scale = get_budget(ledger, tenant_id, budget).scale
            minor = Amount.parse(utilization(ledger, tenant_id, budget).seed_balance, scale).minor
        except (NotFound, ValidationError):  # not migrated (a bad row), or not an id of ours
            minor, scale = 0, _known_scale(ledger, tenant_id, currency)
        return difference_of(
            SUBJECT_BUDGET, budget, f"{BUDGETS}.balance", row.get("balance"), minor, scale
        )

    batches = run.source.budgets(run.batch_size)
    compare_rows(batches, difference, SUBJECT_BUDGET, files, on_rows=on_rows)


def _known_scale(ledger: Ledger, tenant_id: str, currency: str) -> int:
    try:
        return _scale(ledger, tenant_id, currency)
    except (NotFound, ValidationError):
        return BUILT_IN_CURRENCY_SCALE
