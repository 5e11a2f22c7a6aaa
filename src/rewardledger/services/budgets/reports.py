"""Reading a budget: its utilization now, its alerts, and reports over a window (with CSV).

Owns the read side of budgets. Every figure of one answer comes from one snapshot, so a
report never mixes two moments; the windows are the domain's (``report_window``) and the
totals count each journal row once (``domain.budgets.entry_totals``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain.budgets import (
    ENTRY_TYPES,
    BudgetPolicy,
    Figures,
    current_key,
    entry_totals,
    report_window,
)
from rewardledger.domain.budgets import budget_id as check_budget_id
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.domain.paging import page_limit, page_of, text_after
from rewardledger.ledger.engine import Ledger
from rewardledger.services.budgets.periods import figures_of
from rewardledger.services.budgets.port import store_of
from rewardledger.services.budgets.setup import all_budgets, get_budget
from rewardledger.services.budgets.views import (
    AlertView,
    BudgetReport,
    Utilization,
    alert_view,
    utilization_view,
)


def utilization(
    ledger: Ledger, tenant_id: str, budget_id: str, *, period: str | None = None
) -> Utilization:
    """The figures of the current period (or of ``period``, such as "2026-03")."""
    policy = get_budget(ledger, tenant_id, budget_id)
    tenant = ledger.get_tenant(tenant_id)
    key = period if period is not None else current_key(policy, ledger.clock(), tenant.zone)
    store = store_of(ledger)
    with store.snapshot(tenant_id) as snapshot:
        record = store.get_period(snapshot, tenant_id, policy.id, key)
        if record is None:
            return utilization_view(policy, key, Figures(0, 0, 0, 0, 0, 0, 0, 0))
        return utilization_view(policy, key, figures_of(store, snapshot, tenant_id, record))


def alerts(
    ledger: Ledger,
    tenant_id: str,
    *,
    budget_id: str | None = None,
    limit: int = PAGE_SIZE_DEFAULT,
) -> list[AlertView]:
    """The tenant's budget alerts, newest first."""
    ledger.get_tenant(tenant_id)
    chosen = page_limit(limit)
    if budget_id is not None:
        check_budget_id(budget_id)
    return [alert_view(a) for a in store_of(ledger).alerts(tenant_id, budget_id, chosen)]


def report(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    range_name: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> BudgetReport:
    """Totals by entry type within the window (by effective time), issuance (reserve) and
    redemption (charge) counts, and the current utilization."""
    policy = get_budget(ledger, tenant_id, budget_id)
    tenant = ledger.get_tenant(tenant_id)
    start, end = report_window(range_name, date_from, date_to, ledger.clock(), tenant.zone)
    return _report(ledger, policy, start, end)


def _report(ledger: Ledger, policy: BudgetPolicy, start: datetime, end: datetime) -> BudgetReport:
    store = store_of(ledger)
    journals = [
        store.kind_totals(None, policy.tenant_id, record.account_id, (start, end))
        for record in store.periods(None, policy.tenant_id, policy.id)
    ]
    totals, _ = entry_totals(journals)
    return BudgetReport(
        budget_id=policy.id,
        name=policy.name,
        currency=policy.currency,
        window_start=start,
        window_end=end,
        totals={name: policy.amount(value) for name, value in totals.items()},
        issuance_count=sum(journal.count("reserve") for journal in journals),
        redemption_count=sum(journal.count("charge") for journal in journals),
        utilization=utilization(ledger, policy.tenant_id, policy.id),
    )


def tenant_report(
    ledger: Ledger,
    tenant_id: str,
    *,
    range_name: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> list[BudgetReport]:
    tenant = ledger.get_tenant(tenant_id)
    start, end = report_window(range_name, date_from, date_to, ledger.clock(), tenant.zone)
    return [_report(ledger, policy, start, end) for policy in all_budgets(ledger, tenant_id)]


@dataclass(frozen=True, slots=True)
class ReportPage:
    reports: list[BudgetReport]
    next_cursor: str | None


def tenant_report_page(
    ledger: Ledger,
    tenant_id: str,
    *,
    range_name: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> ReportPage:
    """Every budget's report over one window, by budget id, a page at a time (the cursor is
    the last budget's id)."""
    size = page_limit(limit)
    after = text_after(cursor)
    tenant = ledger.get_tenant(tenant_id)
    start, end = report_window(range_name, date_from, date_to, ledger.clock(), tenant.zone)
    policies = store_of(ledger).list_budgets(tenant_id, after, size + 1)
    kept, next_cursor = page_of(policies, size, lambda policy: (policy.id,))
    return ReportPage([_report(ledger, policy, start, end) for policy in kept], next_cursor)


CSV_COLUMNS = (
    "budget_id",
    "name",
    "currency",
    "from",
    "to",
    *(f"total_{name}" for name in ENTRY_TYPES),
    "issuance_count",
    "redemption_count",
    "period",
    "used",
    "remaining",
    "utilization_percent",
)


def reports_csv(reports: Sequence[BudgetReport]) -> str:
    """The reports as CSV, one row per budget, amounts as decimal strings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        writer.writerow(
            [
                r.budget_id,
                r.name,
                r.currency,
                r.window_start.isoformat(),
                r.window_end.isoformat(),
                *(r.totals[name] for name in ENTRY_TYPES),
                r.issuance_count,
                r.redemption_count,
                r.utilization.period,
                r.utilization.used,
                r.utilization.remaining,
                r.utilization.utilization_percent,
            ]
        )
    return out.getvalue()
