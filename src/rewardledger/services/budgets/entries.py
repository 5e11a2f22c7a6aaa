"""A budget's journal entries, a page at a time.

Owns the entries list: the journal rows touching the budget's period accounts, newest first
(seed 002's ``GetLedgerEntries``: "Date range filtering", "Sorted by created_at DESC"), by
keyset pagination on (created_at, transfer_id) with the one opaque cursor codec
(``domain.paging``), each named by its entry type as a finance team names it.
"""

from __future__ import annotations

from rewardledger.domain.budgets import (
    BudgetPolicy,
    EntryQuery,
    EntryRecord,
    entry_type,
)
from rewardledger.domain.budgets.reports import entries_window
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.domain.paging import encode_cursor, instant_and_id_after, instant_part, page_limit
from rewardledger.ledger.engine import Ledger
from rewardledger.services.budgets.port import store_of
from rewardledger.services.budgets.setup import get_budget
from rewardledger.services.budgets.views import BudgetEntry, EntriesPage


def entries(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    limit: int = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> EntriesPage:
    """The budget's journal entries, newest first, a page at a time (keyset pagination: pass
    ``next_cursor`` back as ``cursor``, with the same dates). ``date_from`` and ``date_to``
    (YYYY-MM-DD on the tenant's calendar, both included, each optional) keep the entries
    created in that range."""
    policy = get_budget(ledger, tenant_id, budget_id)
    window = entries_window(date_from, date_to, ledger.get_tenant(tenant_id).zone)
    chosen = page_limit(limit)
    after = instant_and_id_after(cursor)
    store = store_of(ledger)
    by_account = {p.account_id: p.period for p in store.periods(None, tenant_id, policy.id)}
    if not by_account:
        return EntriesPage(policy.id, [], None)
    rows = store.entries(tenant_id, EntryQuery(tuple(by_account), after, chosen, window))
    next_cursor = None
    if len(rows) == chosen:
        next_cursor = encode_cursor(instant_part(rows[-1].created_at), rows[-1].transfer_id)
    return EntriesPage(policy.id, [_entry(policy, by_account, row) for row in rows], next_cursor)


def _entry(policy: BudgetPolicy, by_account: dict[str, str], row: EntryRecord) -> BudgetEntry:
    return BudgetEntry(
        transfer_id=row.transfer_id,
        entry_type=entry_type(row.phase, row.kind),
        amount=policy.amount(row.amount_minor),
        period=by_account.get(row.debit_account_id) or by_account.get(row.credit_account_id, ""),
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        pending_id=row.pending_id,
        effective_at=row.effective_at,
        created_at=row.created_at,
        metadata=row.metadata,
    )
