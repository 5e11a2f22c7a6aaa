"""Campaign budgets: the policy of a budget and the pure rules of its figures.

Owns: what a budget is (currency, hard cap, soft cap, alert thresholds, period, rollover,
per-member caps), how a period is named in the tenant's time zone, what each figure means
(see docs/budgets.md), which reserve is refused and why, and which alerts a reserve raises.
Protects invariant 4 (a budget's used amount never exceeds its hard cap): ``check_reserve`` is
the rule; the service runs it under the budget's row lock, and reconciliation checks it again.

Money words, fixed once (docs/glossary.md):
    funded     top-ups put into the period (plus what rolled in, minus reversed top-ups)
    reserved   held by open reservations (pending transfers of the core)
    charged    posted from reservations (net of reversed charges)
    used       reserved + charged: what the hard cap limits
    balance    funds still in the period's account: funded - charged
    available  funds not yet spoken for: funded - used (what a reserve may still take by funds)
    remaining  min(available, hard cap - used): what the next reserve may take (on_demand:
               hard cap - used, since a reserve draws what available lacks)

The package, one module per rule: ``policy`` (the definition, ids), ``figures`` (figures,
reserve check, alerts), ``records`` (what crosses the storage boundary), ``reservations``
(charge and release rules), ``corrections`` (what a correction may reverse, by how much),
``reconciliation`` (figures against the journal) and ``reports`` (report windows).
"""

from __future__ import annotations

from rewardledger.domain.budgets.corrections import (
    CorrectionPlan,
    check_correction_replay,
    plan_correction,
)
from rewardledger.domain.budgets.figures import (
    AlertDue,
    Figures,
    MemberUsage,
    alert_payload,
    alerts_due,
    check_reserve,
    currency_mismatch,
    figures_from_account,
    percent_text,
    rejection_alert,
)
from rewardledger.domain.budgets.policy import (
    BUILT_IN_CURRENCIES,
    BUILT_IN_CURRENCY_SCALE,
    DEFAULT_THRESHOLDS_PERCENT,
    ENTRY_TYPES,
    KIND_FUND,
    KIND_RESERVE,
    KIND_REVERSE,
    KIND_ROLLOVER,
    POLICY_FIELDS,
    AlertLevel,
    BudgetFunding,
    BudgetPeriod,
    BudgetPolicy,
    budget_id,
    charge_id,
    check_funding,
    check_policy,
    correction_id,
    current_key,
    default_soft_cap,
    draw_id,
    fund_id,
    funding_account,
    issued_account,
    next_reset_at,
    note,
    period_account,
    period_key,
    policy_differences,
    reference,
    reserve_id,
    reset_segment,
    rollover_id,
    timeout_seconds,
)
from rewardledger.domain.budgets.reconciliation import (
    AccountTotals,
    entry_totals,
    period_mismatches,
)
from rewardledger.domain.budgets.records import (
    ALL_TIME,
    AccountOpening,
    AlertPosition,
    AlertRecord,
    CorrectionRecord,
    EntryQuery,
    EntryRecord,
    FixRecord,
    KindTotals,
    LockedBudget,
    OwnRows,
    PeriodOpening,
    PeriodRecord,
    ReservationRecord,
    Resolution,
    TimePosition,
    Window,
    WriteKeys,
    entry_type,
)
from rewardledger.domain.budgets.reports import (
    RANGES,
    report_window,
)
from rewardledger.domain.budgets.reservations import (
    STATE_BY_PHASE,
    check_charge,
    check_release,
    reservation_state,
)

__all__ = [
    "ALL_TIME",
    "BUILT_IN_CURRENCIES",
    "BUILT_IN_CURRENCY_SCALE",
    "DEFAULT_THRESHOLDS_PERCENT",
    "ENTRY_TYPES",
    "KIND_FUND",
    "KIND_RESERVE",
    "KIND_REVERSE",
    "KIND_ROLLOVER",
    "POLICY_FIELDS",
    "RANGES",
    "STATE_BY_PHASE",
    "AccountOpening",
    "AccountTotals",
    "AlertDue",
    "AlertLevel",
    "AlertPosition",
    "AlertRecord",
    "BudgetFunding",
    "BudgetPeriod",
    "BudgetPolicy",
    "CorrectionPlan",
    "CorrectionRecord",
    "EntryQuery",
    "EntryRecord",
    "Figures",
    "FixRecord",
    "KindTotals",
    "LockedBudget",
    "MemberUsage",
    "OwnRows",
    "PeriodOpening",
    "PeriodRecord",
    "ReservationRecord",
    "Resolution",
    "TimePosition",
    "Window",
    "WriteKeys",
    "alert_payload",
    "alerts_due",
    "budget_id",
    "charge_id",
    "check_charge",
    "check_correction_replay",
    "check_funding",
    "check_policy",
    "check_release",
    "check_reserve",
    "correction_id",
    "currency_mismatch",
    "current_key",
    "default_soft_cap",
    "draw_id",
    "entry_totals",
    "entry_type",
    "figures_from_account",
    "fund_id",
    "funding_account",
    "issued_account",
    "next_reset_at",
    "note",
    "percent_text",
    "period_account",
    "period_key",
    "period_mismatches",
    "plan_correction",
    "policy_differences",
    "reference",
    "rejection_alert",
    "report_window",
    "reservation_state",
    "reserve_id",
    "reset_segment",
    "rollover_id",
    "timeout_seconds",
]
