"""What the budget service returns: frozen views with amounts as decimal strings.

Owns the shapes http, cli and callers read (docs/budgets.md defines every figure), and the
one place each is built from the domain's records, so every use case formats money the same
way (``BudgetPolicy.amount``: the budget's currency scale, never a float).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rewardledger.domain.budgets import (
    AlertRecord,
    BudgetFunding,
    BudgetPolicy,
    CorrectionRecord,
    Figures,
    ReservationRecord,
    Resolution,
    percent_text,
    reservation_state,
)


@dataclass(frozen=True, slots=True)
class Utilization:
    """A period's figures as decimal strings (docs/budgets.md defines each)."""

    budget_id: str
    period: str
    currency: str
    hard_cap: str
    soft_cap: str
    funded: str
    rolled_in: str
    rolled_out: str
    reversed: str
    reserved: str
    charged: str
    released: str
    used: str
    balance: str
    available: str
    remaining: str
    utilization_percent: str
    soft_cap_exceeded: bool
    hard_cap_approaching: bool
    funding: str
    # The seeds' names (docs/glossary.md, "the seeds' budget fields"): seed 003 reads a
    # budget's balance as "reserved/charged amounts" (``b.balance as reserved``), and its
    # GetLedgerBalance totals entries by type. Additive: the names above keep their meaning.
    seed_balance: str  # = used = total_reserved - total_released
    seed_available: str  # hard cap - seed_balance: what the seed's hard-cap check still allows
    total_funded: str
    total_reserved: str  # every amount reserved in the period, open or resolved
    total_charged: str
    total_released: str


def utilization_view(policy: BudgetPolicy, period: str, figures: Figures) -> Utilization:
    a = policy.amount
    headroom = policy.hard_cap_minor - figures.used
    # An on-demand budget draws what available lacks from the funding source at each
    # reserve, so only the hard cap limits the next one.
    funds = headroom if policy.funding is BudgetFunding.ON_DEMAND else figures.available
    remaining = max(0, min(funds, headroom))
    top = max(policy.thresholds_percent)
    return Utilization(
        budget_id=policy.id,
        period=period,
        currency=policy.currency,
        hard_cap=a(policy.hard_cap_minor),
        soft_cap=a(policy.soft_cap_minor),
        funded=a(figures.funded),
        rolled_in=a(figures.rolled_in),
        rolled_out=a(figures.rolled_out),
        reversed=a(figures.reversed_funds),
        reserved=a(figures.reserved),
        charged=a(figures.charged),
        released=a(figures.released),
        used=a(figures.used),
        balance=a(figures.balance),
        available=a(figures.available),
        remaining=a(remaining),
        utilization_percent=percent_text(figures.used, policy.hard_cap_minor),
        soft_cap_exceeded=figures.used > policy.soft_cap_minor,
        hard_cap_approaching=figures.used * 100 >= top * policy.hard_cap_minor,
        funding=policy.funding.value,
        seed_balance=a(figures.used),
        seed_available=a(policy.hard_cap_minor - figures.used),
        total_funded=a(figures.funded),
        total_reserved=a(figures.used + figures.released),
        total_charged=a(figures.charged),
        total_released=a(figures.released),
    )


@dataclass(frozen=True, slots=True)
class ReservationView:
    budget_id: str
    reference: str
    transfer_id: str
    period: str
    member_key: str | None
    amount: str
    state: str  # reserved, charged, released, expired
    charged_amount: str | None
    resolved_by: str | None
    expires_at: datetime | None
    created_at: datetime
    replayed: bool = False


def reservation_view(
    policy: BudgetPolicy,
    record: ReservationRecord,
    resolution: Resolution | None,
    *,
    replayed: bool = False,
) -> ReservationView:
    charged = None
    if resolution is not None and resolution.phase == "post":
        charged = policy.amount(resolution.amount_minor)
    return ReservationView(
        budget_id=record.budget_id,
        reference=record.reference,
        transfer_id=record.transfer_id,
        period=record.period,
        member_key=record.member_key,
        amount=policy.amount(record.amount_minor),
        state=reservation_state(resolution),
        charged_amount=charged,
        resolved_by=None if resolution is None else resolution.transfer_id,
        expires_at=record.expires_at,
        created_at=record.created_at,
        replayed=replayed,
    )


@dataclass(frozen=True, slots=True)
class TopupResult:
    budget_id: str
    period: str
    transfer_id: str
    amount: str
    currency: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class CorrectionView:
    budget_id: str
    transfer_id: str
    period: str
    reverses_id: str
    amount: str
    note: str
    actor: str
    created_at: datetime
    replayed: bool = False


def correction_view(
    policy: BudgetPolicy, record: CorrectionRecord, *, replayed: bool = False
) -> CorrectionView:
    return CorrectionView(
        budget_id=record.budget_id,
        transfer_id=record.transfer_id,
        period=record.period,
        reverses_id=record.reverses_id,
        amount=policy.amount(record.amount_minor),
        note=record.note,
        actor=record.actor,
        created_at=record.created_at,
        replayed=replayed,
    )


@dataclass(frozen=True, slots=True)
class AlertView:
    budget_id: str
    period: str
    kind: str
    level: str
    threshold_percent: int | None
    details: Mapping[str, Any]
    created_at: datetime


def alert_view(a: AlertRecord) -> AlertView:
    """What the alert lists show of a stored alert: all but its key."""
    return AlertView(
        a.budget_id, a.period, a.kind, a.level, a.threshold_percent, a.details, a.created_at
    )


@dataclass(frozen=True, slots=True)
class Discrepancy:
    period: str
    figure: str
    materialized: str
    journal: str


@dataclass(frozen=True, slots=True)
class BudgetReconciliation:
    budget_id: str
    currency: str
    periods_checked: int
    totals: dict[str, str]  # entry type -> amount, from the journal
    counts: dict[str, int]  # entry type -> journal rows
    discrepancies: list[Discrepancy]

    @property
    def clean(self) -> bool:
        return not self.discrepancies


@dataclass(frozen=True, slots=True)
class TenantReconciliation:
    tenant_id: str
    budgets_checked: int
    budgets_clean: int
    discrepancies_count: int
    budgets: list[BudgetReconciliation] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.discrepancies_count == 0


@dataclass(frozen=True, slots=True)
class BudgetReport:
    budget_id: str
    name: str
    currency: str
    window_start: datetime
    window_end: datetime
    totals: dict[str, str]
    issuance_count: int
    redemption_count: int
    utilization: Utilization


@dataclass(frozen=True, slots=True)
class BudgetEntry:
    transfer_id: str
    entry_type: str
    amount: str
    period: str
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    effective_at: datetime
    created_at: datetime
    metadata: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EntriesPage:
    budget_id: str
    entries: list[BudgetEntry]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ResetResult:
    """What an on-demand reset did (seed 002's ``ResetBudget``): the period it opened."""

    budget_id: str
    period: str
    previous_period: str | None
    rolled_in: str
    reset_key: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class ResetFailure:
    budget_id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ResetSummary:
    """Seed 002's ``ResetMonthlyBudgetsForTenant``: every budget of one period type reset."""

    period_type: str
    budgets_reset: int
    budgets_failed: int
    results: list[ResetResult]
    failures: list[ResetFailure]


@dataclass(frozen=True, slots=True)
class ResetSchedule:
    """Seed 002's ``GetNextResetDate`` and ``ShouldResetBudget`` for one budget."""

    budget_id: str
    period_type: str
    current_period: str | None
    period_now: str
    next_reset_at: datetime | None  # None for a rolling budget: only an on-demand reset
    should_reset: bool


@dataclass(frozen=True, slots=True)
class FixedFigure:
    period: str
    figure: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class BudgetFix:
    """Seed 002's ``FixDiscrepancy``: the period counters set back to what the journal says,
    with the note, who and when, and what a fix of counters cannot mend (``remaining``)."""

    budget_id: str
    fix_key: str
    note: str
    actor: str
    fixed: list[FixedFigure]
    remaining: list[Discrepancy]
    replayed: bool
