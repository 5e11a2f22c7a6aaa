"""Fixing what budget reconciliation finds (seed 002's ``FixDiscrepancy``: "Manually correct
balance discrepancies", "Requires manual review notes", "Logs correction with warning level").

Owns the fix of a period's counters. The journal is the truth and is never edited: a fix sets
each counter a budget keeps beside it (funded, rolled in and out, reversed top-ups and charges,
the reserved total) back to what the period's journal rows add up to, under the budget's row
lock, and records every changed figure (before, after, note, who, when) in an append-only
audit trail, with one ``discrepancy_fixed`` warning alert per period fixed. What a fix of
counters cannot mend is returned as ``remaining``: an account's materialized totals are the
core's (``rewardledger repair`` rebuilds them from the journal).
"""

from __future__ import annotations

from rewardledger.domain.budgets import (
    AlertDue,
    AlertLevel,
    BudgetPolicy,
    FixRecord,
    KindTotals,
    PeriodRecord,
)
from rewardledger.domain.budgets import note as check_note
from rewardledger.domain.budgets import reference as check_reference
from rewardledger.domain.tenants import display_name
from rewardledger.domain.text import check_storable
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.periods import lock
from rewardledger.services.budgets.port import BudgetStore, store_of
from rewardledger.services.budgets.reconciliation import reconcile
from rewardledger.services.budgets.reservations import write_alert
from rewardledger.services.budgets.views import BudgetFix, FixedFigure

# A period's counter: the figure reconciliation names it by, its column, and the kind of the
# journal rows that add up to it (as ``period_mismatches`` counts them).
_COUNTERS = (
    ("funded", "funded_minor", "fund"),
    ("rolled_in", "rolled_in_minor", "rollover_in"),
    ("rolled_out", "rolled_out_minor", "rollover_out"),
    ("reversed_funds", "reversed_funds_minor", "reverse_out"),
    ("reversed_charges", "reversed_charges_minor", "reverse_in"),
    ("reserved_total", "reserved_total_minor", "reserve"),
)


def _from_journal(journal: KindTotals) -> dict[str, int]:
    """The counters of a period as its journal rows add them up."""
    return {figure: journal.amount(kind) for figure, _, kind in _COUNTERS}


def _stored(record: PeriodRecord) -> dict[str, int]:
    """The counters the period keeps."""
    return {figure: getattr(record, figure) for figure, _, _ in _COUNTERS}


def fix_discrepancies(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    note: str,
    actor: str,
    idempotency_key: str,
) -> BudgetFix:
    """Set every period counter that differs from the journal back to the journal's figure,
    audited with ``note`` and ``actor``; a replay with the same key returns the first fix."""
    check_reference(idempotency_key, "idempotency_key")
    check_storable(check_note(note), "note")
    display_name(actor, "actor")
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> tuple[BudgetPolicy, list[FixRecord], bool]:
        policy = lock(store, work, budget_id)
        tenant = work.tenant_id
        earlier = [
            f for f in store.fixes(work.unit, tenant, policy.id) if f.fix_key == idempotency_key
        ]
        if earlier:
            return policy, earlier, True
        written: list[FixRecord] = []
        for record in store.periods(work.unit, tenant, policy.id):
            written += _fix_period(store, work, policy, record, idempotency_key, note, actor)
        if written:
            work.event("budget.fixed", policy.id, {"fix_key": idempotency_key})
        return policy, written, False

    policy, records, replayed = ledger.run(tenant_id, use_case)
    a = policy.amount
    return BudgetFix(
        budget_id=policy.id,
        fix_key=idempotency_key,
        note=records[0].note if records else note,
        actor=records[0].actor if records else actor,
        fixed=[
            FixedFigure(r.period, r.figure, a(r.before_minor), a(r.after_minor)) for r in records
        ],
        remaining=reconcile(ledger, tenant_id, policy.id).discrepancies,
        replayed=replayed,
    )


def _fix_period(
    store: BudgetStore,
    work: UnitOfWork,
    policy: BudgetPolicy,
    record: PeriodRecord,
    key: str,
    note: str,
    actor: str,
) -> list[FixRecord]:
    """Fix one period's counters from its journal rows; the audit rows it wrote."""
    tenant = work.tenant_id
    journal = _from_journal(store.kind_totals(work.unit, tenant, record.account_id))
    stored = _stored(record)
    wrong = [
        (column, figure) for figure, column, _ in _COUNTERS if stored[figure] != journal[figure]
    ]
    if not wrong:
        return []
    values = {column: journal[figure] for column, figure in wrong}
    store.set_period_counters(work.unit, tenant, policy.id, record.period, **values)
    written = [
        FixRecord(
            tenant_id=tenant,
            budget_id=policy.id,
            fix_key=key,
            period=record.period,
            figure=figure,
            before_minor=stored[figure],
            after_minor=journal[figure],
            note=note,
            actor=actor,
            created_at=work.now,
        )
        for _, figure in wrong
    ]
    for fix in written:
        store.insert_fix(work.unit, fix)
    details = {"fix_key": key, "figures": [f for _, f in wrong], "note": note, "actor": actor}
    alert = AlertDue(f"fix:{key}", "discrepancy_fixed", AlertLevel.WARNING, None)
    write_alert(store, work, policy.id, record.period, alert, details)
    return written
