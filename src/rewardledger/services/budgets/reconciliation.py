"""Budget reconciliation: every period's materialized figures against the journal.

Owns the third check of invariant 4 and of every counter a budget keeps (CONVENTIONS.md rule
8): read in one snapshot, compared by ``domain.budgets.period_mismatches``, reported as
discrepancies (none when clean). It writes nothing.
"""

from __future__ import annotations

from rewardledger.domain.budgets import BudgetPolicy, entry_totals, period_mismatches
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.storage_unit import ReadUnit
from rewardledger.services.budgets.port import BudgetStore, store_of
from rewardledger.services.budgets.setup import all_budgets, get_budget
from rewardledger.services.budgets.views import (
    BudgetReconciliation,
    Discrepancy,
    TenantReconciliation,
)


def reconcile(ledger: Ledger, tenant_id: str, budget_id: str) -> BudgetReconciliation:
    """Check every period's materialized figures against the journal, and the hard cap."""
    policy = get_budget(ledger, tenant_id, budget_id)
    store = store_of(ledger)
    with store.snapshot(tenant_id) as snapshot:
        return _reconcile(store, snapshot, policy)


def _reconcile(
    store: BudgetStore, snapshot: ReadUnit, policy: BudgetPolicy
) -> BudgetReconciliation:
    tenant_id = policy.tenant_id
    records = store.periods(snapshot, tenant_id, policy.id)
    accounts = store.account_totals(snapshot, tenant_id, [r.account_id for r in records])
    journals = []
    found: list[Discrepancy] = []
    for record in records:
        journal = store.kind_totals(snapshot, tenant_id, record.account_id)
        journals.append(journal)
        mismatches = period_mismatches(
            policy,
            record,
            accounts.get(record.account_id, (0, 0, 0)),
            journal,
            store.open_pending_total(snapshot, tenant_id, record.account_id),
            store.reservations_total(snapshot, tenant_id, policy.id, record.period),
        )
        found.extend(
            Discrepancy(record.period, figure, policy.amount(mine), policy.amount(theirs))
            for figure, mine, theirs in mismatches
        )
    totals, counts = entry_totals(journals)
    return BudgetReconciliation(
        budget_id=policy.id,
        currency=policy.currency,
        periods_checked=len(records),
        totals={name: policy.amount(value) for name, value in totals.items()},
        counts=counts,
        discrepancies=found,
    )


def reconcile_tenant(ledger: Ledger, tenant_id: str) -> TenantReconciliation:
    """Reconcile every budget of the tenant (at most BUDGETS_PER_TENANT_REPORT_MAX)."""
    results = [reconcile(ledger, tenant_id, b.id) for b in all_budgets(ledger, tenant_id)]
    return TenantReconciliation(
        tenant_id=tenant_id,
        budgets_checked=len(results),
        budgets_clean=sum(1 for r in results if r.clean),
        discrepancies_count=sum(len(r.discrepancies) for r in results),
        budgets=results,
    )
