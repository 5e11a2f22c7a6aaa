"""Campaign budgets: fund, reserve, charge, release, correct; caps, alerts, periods,
reconciliation and reports (docs/budgets.md explains the meaning of every figure).

Owns: one function per use case, one module per group of them: ``setup`` (create and read
budgets), ``periods`` (the row lock, opening periods, rollover, due jobs), ``funding`` (top-ups),
``reservations`` (reserve, charge, release), ``corrections``, ``reports`` (utilization, alerts,
reports, CSV), ``reconciliation`` and ``entries``; ``port`` is what they need of storage and
``views`` what they return. Each write runs in ONE unit of work with its journal
transfers, and starts by locking the budget's row, so that the hard cap is checked and the
reserve written with no other writer in between (invariant 4, CONVENTIONS.md rule 10).

How budgets sit on the core (glossary: reserve / charge / release = pending / post / void):
    budgets:funding:<CUR>     the tenant's money put into budgets (goes below zero)
    budget:<id>:<period>      one account per (budget, period), no-negative: its funds
    budgets:issued:<CUR>      rewards issued: where reserved and charged money goes
    fund      budgets:funding -> budget period account          (posted)
    reserve   budget period account -> budgets:issued           (pending, optional timeout)
    charge    post of that pending transfer, in full or for less
    release   void of it (or its expiry by the core's due-jobs "holds" step)
    reverse   a correcting transfer the other way round, with a note, by an admin
    rollover  old period account -> new period account          (posted)
So a period account's open pending debits ARE its reserved figure and an expiry kept by the
core keeps it right with no work here.
"""

from __future__ import annotations

from rewardledger.domain.budgets import (
    RANGES,
    funding_account,
    issued_account,
    period_account,
    report_window,
)
from rewardledger.services.budgets.corrections import (
    correct,
    corrections,
)
from rewardledger.services.budgets.entries import (
    entries,
)
from rewardledger.services.budgets.fixes import fix_discrepancies
from rewardledger.services.budgets.funding import (
    topup,
)
from rewardledger.services.budgets.listing import (
    AlertPage,
    CorrectionPage,
    ReservationPage,
    alerts_page,
    corrections_page,
    reservations_page,
)
from rewardledger.services.budgets.periods import (
    run_due,
)
from rewardledger.services.budgets.port import (
    STORE,
    BudgetStore,
)
from rewardledger.services.budgets.reconciliation import (
    reconcile,
    reconcile_tenant,
)
from rewardledger.services.budgets.reports import (
    CSV_COLUMNS,
    ReportPage,
    alerts,
    report,
    reports_csv,
    tenant_report,
    tenant_report_page,
    utilization,
)
from rewardledger.services.budgets.reservations import (
    charge,
    get_reservation,
    release,
    reserve,
)
from rewardledger.services.budgets.resets import reset_budget, reset_budgets, reset_schedule
from rewardledger.services.budgets.setup import (
    create_budget,
    get_budget,
    list_budgets,
)
from rewardledger.services.budgets.views import (
    AlertView,
    BudgetEntry,
    BudgetFix,
    BudgetReconciliation,
    BudgetReport,
    CorrectionView,
    Discrepancy,
    EntriesPage,
    ReservationView,
    ResetResult,
    ResetSchedule,
    ResetSummary,
    TenantReconciliation,
    TopupResult,
    Utilization,
)

__all__ = [
    "CSV_COLUMNS",
    "RANGES",
    "STORE",
    "AlertPage",
    "AlertView",
    "BudgetEntry",
    "BudgetFix",
    "BudgetReconciliation",
    "BudgetReport",
    "BudgetStore",
    "CorrectionPage",
    "CorrectionView",
    "Discrepancy",
    "EntriesPage",
    "ReportPage",
    "ReservationPage",
    "ReservationView",
    "ResetResult",
    "ResetSchedule",
    "ResetSummary",
    "TenantReconciliation",
    "TopupResult",
    "Utilization",
    "alerts",
    "alerts_page",
    "charge",
    "correct",
    "corrections",
    "corrections_page",
    "create_budget",
    "entries",
    "fix_discrepancies",
    "funding_account",
    "get_budget",
    "get_reservation",
    "issued_account",
    "list_budgets",
    "period_account",
    "reconcile",
    "reconcile_tenant",
    "release",
    "report",
    "report_window",
    "reports_csv",
    "reservations_page",
    "reserve",
    "reset_budget",
    "reset_budgets",
    "reset_schedule",
    "run_due",
    "tenant_report",
    "tenant_report_page",
    "topup",
    "utilization",
]
