"""Request and response bodies of the budget routes (money as decimal strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from rewardledger.domain.budgets import BudgetPolicy
from rewardledger.domain.limits import (
    BUDGET_ID_LENGTH_MAX,
    BUDGET_NOTE_LENGTH_MAX,
    BUDGET_REFERENCE_LENGTH_MAX,
    BUDGET_THRESHOLDS_MAX,
    DERIVED_ID_LENGTH_MAX,
    PENDING_TIMEOUT_SECONDS_MAX,
)
from rewardledger.http.examples import budgets as samples
from rewardledger.http.examples import example
from rewardledger.http.fields import NEXT_CURSOR
from rewardledger.http.idempotency import IdempotencyKeyBody
from rewardledger.http.public import ViewPublic
from rewardledger.http.schemas import AssetCode, CreateModel, DecimalString, Name, id_text

BUDGET_ID_PATH_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{BUDGET_ID_LENGTH_MAX - 1}}}$"
REFERENCE_PATH_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:@-]{{0,{BUDGET_REFERENCE_LENGTH_MAX - 1}}}$"
Reference = Annotated[StrictStr, id_text(REFERENCE_PATH_PATTERN, BUDGET_REFERENCE_LENGTH_MAX)]
# Why a correction or a fix was made, kept with it.
Note = Annotated[StrictStr, Field(min_length=1, max_length=BUDGET_NOTE_LENGTH_MAX)]


class BudgetCreate(CreateModel, json_schema_extra=example(samples.BUDGET_CREATE)):
    id: Annotated[
        StrictStr,
        id_text(BUDGET_ID_PATH_PATTERN, BUDGET_ID_LENGTH_MAX),
        Field(examples=["spring-2026"]),
    ]
    name: Name | None = None
    currency: Annotated[AssetCode, Field(examples=["USD", "ZWG"])]
    hard_cap: DecimalString
    soft_cap: DecimalString | None = None
    alert_thresholds: Annotated[
        list[Annotated[StrictInt, Field(ge=1, le=100)]],
        Field(
            min_length=1,
            max_length=BUDGET_THRESHOLDS_MAX,
            # Different percents: the domain refuses a repeated one, the schema says so.
            json_schema_extra={"uniqueItems": True},
        ),
    ] = [80, 95]  # noqa: RUF012 - pydantic copies defaults
    period: Annotated[
        StrictStr,
        Field(
            max_length=16, json_schema_extra={"enum": ["rolling", "monthly", "quarterly", "yearly"]}
        ),
    ] = "monthly"
    rollover: StrictBool = False
    member_cap_amount: DecimalString | None = None
    member_cap_count: Annotated[StrictInt, Field(ge=1)] | None = None
    funding: Annotated[
        StrictStr,
        Field(
            max_length=16,
            description="prefunded: reserves need a top-up first; on_demand: capped but not "
            "pre-funded, a reserve draws what it needs from the tenant's funding account.",
            json_schema_extra={"enum": ["prefunded", "on_demand"]},
        ),
    ] = "prefunded"
    idempotency_key: IdempotencyKeyBody = None


class BudgetPublic(BaseModel, json_schema_extra=example(samples.BUDGET_PUBLIC)):
    id: str
    name: str
    currency: str
    hard_cap: str
    soft_cap: str
    alert_thresholds: list[int]
    period: str
    rollover: bool
    member_cap_amount: str | None
    member_cap_count: int | None
    funding: str
    created_at: datetime

    @classmethod
    def of(cls, policy: BudgetPolicy) -> BudgetPublic:
        cap = policy.member_cap_amount_minor
        return cls(
            id=policy.id,
            name=policy.name,
            currency=policy.currency,
            hard_cap=policy.amount(policy.hard_cap_minor),
            soft_cap=policy.amount(policy.soft_cap_minor),
            alert_thresholds=list(policy.thresholds_percent),
            period=policy.period.value,
            rollover=policy.rollover,
            member_cap_amount=None if cap is None else policy.amount(cap),
            member_cap_count=policy.member_cap_count,
            funding=policy.funding.value,
            created_at=policy.created_at,
        )


class BudgetListPublic(BaseModel, json_schema_extra=example(samples.BUDGET_LIST)):
    budgets: list[BudgetPublic]
    next_cursor: str | None = Field(
        description="Pass as ``cursor`` for the next page; null on the last page.",
        examples=["WyJzcHJpbmctcHJvbW8iXQ"],
    )
    next_after: str | None = Field(
        description="Deprecated (kept for one release): pass as ``after``; use next_cursor.",
        json_schema_extra={"deprecated": True},
    )


class TopupCreate(CreateModel, json_schema_extra=example(samples.TOPUP_CREATE)):
    amount: DecimalString
    currency: AssetCode
    idempotency_key: Reference | None = None


class TopupPublic(ViewPublic, json_schema_extra=example(samples.TOPUP_PUBLIC)):
    budget_id: str
    period: str
    transfer_id: str
    amount: str
    currency: str
    replayed: bool


class ReservationCreate(CreateModel, json_schema_extra=example(samples.RESERVATION_CREATE)):
    reference: Annotated[
        Reference | None,
        Field(
            description="The reward issuance's id, which names the reservation; also its "
            "idempotency key, so the Idempotency-Key header or idempotency_key may carry it "
            "instead (the same value if several).",
            examples=["issuance-2025-03-0042"],
        ),
    ] = None
    idempotency_key: Reference | None = None
    amount: DecimalString
    currency: AssetCode
    member_key: Reference | None = None
    timeout_seconds: Annotated[StrictInt, Field(ge=1, le=PENDING_TIMEOUT_SECONDS_MAX)] | None = None


class ChargeCreate(CreateModel, json_schema_extra=example(samples.CHARGE_CREATE)):
    amount: DecimalString | None = None
    idempotency_key: Reference | None = None


class ReleaseCreate(CreateModel, json_schema_extra=example(samples.RELEASE_CREATE)):
    pass


class ReservationPublic(ViewPublic, json_schema_extra=example(samples.RESERVATION_PUBLIC)):
    budget_id: str
    reference: str
    transfer_id: str
    period: str
    member_key: str | None
    amount: str
    state: str
    charged_amount: str | None
    resolved_by: str | None
    expires_at: datetime | None
    created_at: datetime
    replayed: bool


class CorrectionCreate(CreateModel, json_schema_extra=example(samples.CORRECTION_CREATE)):
    reverses: Annotated[
        StrictStr,
        Field(max_length=DERIVED_ID_LENGTH_MAX, description="The top-up or charge to reverse."),
    ]
    amount: DecimalString | None = None
    note: Note
    idempotency_key: Reference | None = None


class CorrectionPublic(ViewPublic, json_schema_extra=example(samples.CORRECTION_PUBLIC)):
    budget_id: str
    transfer_id: str
    period: str
    reverses_id: str
    amount: str
    note: str
    actor: str
    created_at: datetime
    replayed: bool


class UtilizationPublic(ViewPublic, json_schema_extra=example(samples.UTILIZATION)):
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
    soft_cap_exceeded: bool = Field(description="used > soft_cap.")
    hard_cap_approaching: bool = Field(
        description="used has reached the highest alert threshold (the critical one, 95 % by "
        "default). A lower threshold's hard_cap_approaching alert is a warning and leaves this "
        "false."
    )
    funding: str
    seed_balance: str = Field(description="The seeds' balance: reserved + charged (= used).")
    seed_available: str = Field(description="hard_cap - seed_balance, as the seeds' cap check.")
    total_funded: str
    total_reserved: str
    total_charged: str
    total_released: str


class DiscrepancyPublic(ViewPublic, json_schema_extra=example(samples.BUDGET_DISCREPANCY)):
    period: str
    figure: str
    materialized: str
    journal: str


class BudgetReconciliationPublic(
    ViewPublic, json_schema_extra=example(samples.BUDGET_RECONCILIATION)
):
    budget_id: str
    currency: str
    periods_checked: int
    clean: bool
    totals: dict[str, str]
    counts: dict[str, int]
    discrepancies: list[DiscrepancyPublic]


class TenantReconciliationPublic(
    ViewPublic, json_schema_extra=example(samples.TENANT_RECONCILIATION)
):
    tenant_id: str
    budgets_checked: int
    budgets_clean: int
    discrepancies_count: int
    clean: bool
    budgets: list[BudgetReconciliationPublic]


class BudgetReportPublic(ViewPublic, json_schema_extra=example(samples.BUDGET_REPORT)):
    budget_id: str
    name: str
    currency: str
    window_start: datetime
    window_end: datetime
    totals: dict[str, str]
    issuance_count: int
    redemption_count: int
    utilization: UtilizationPublic


class TenantReportPublic(ViewPublic, json_schema_extra=example(samples.TENANT_REPORT)):
    reports: list[BudgetReportPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class EntryPublic(ViewPublic, json_schema_extra=example(samples.ENTRY)):
    transfer_id: str
    entry_type: str
    amount: str
    period: str
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    effective_at: datetime
    created_at: datetime
    metadata: dict[str, Any]


class EntriesPublic(ViewPublic, json_schema_extra=example(samples.ENTRIES)):
    budget_id: str
    entries: list[EntryPublic]
    next_cursor: str | None


class AlertPublic(ViewPublic, json_schema_extra=example(samples.ALERT)):
    budget_id: str
    period: str
    kind: str
    level: str
    threshold_percent: int | None
    details: dict[str, Any]
    created_at: datetime


class AlertsPublic(ViewPublic, json_schema_extra=example(samples.ALERTS)):
    alerts: list[AlertPublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as ``cursor`` for the next page; null on the last page."
    )


class ResetCreate(CreateModel, json_schema_extra=example(samples.RESET_CREATE)):
    rollover: StrictBool | None = Field(
        default=None,
        description="Move earlier periods' available funds in (default: the budget's).",
    )
    idempotency_key: Reference | None = None


class ResetAllCreate(ResetCreate, json_schema_extra=example(samples.RESET_ALL_CREATE)):
    period_type: Annotated[
        StrictStr,
        Field(
            max_length=16, json_schema_extra={"enum": ["rolling", "monthly", "quarterly", "yearly"]}
        ),
    ]


class ResetPublic(ViewPublic, json_schema_extra=example(samples.RESET_PUBLIC)):
    budget_id: str
    period: str
    previous_period: str | None
    rolled_in: str
    reset_key: str
    replayed: bool


class ResetFailurePublic(ViewPublic, json_schema_extra=example(samples.RESET_FAILURE)):
    budget_id: str
    code: str
    message: str


class ResetSummaryPublic(ViewPublic, json_schema_extra=example(samples.RESET_SUMMARY)):
    period_type: str
    budgets_reset: int
    budgets_failed: int
    results: list[ResetPublic]
    failures: list[ResetFailurePublic]


class ResetSchedulePublic(ViewPublic, json_schema_extra=example(samples.RESET_SCHEDULE)):
    budget_id: str
    period_type: str
    current_period: str | None
    period_now: str
    next_reset_at: datetime | None
    should_reset: bool


class FixCreate(CreateModel, json_schema_extra=example(samples.FIX_CREATE)):
    note: Note
    idempotency_key: Reference | None = None


class FixedFigurePublic(ViewPublic, json_schema_extra=example(samples.FIXED_FIGURE)):
    period: str
    figure: str
    before: str
    after: str


class FixPublic(ViewPublic, json_schema_extra=example(samples.BUDGET_FIX)):
    budget_id: str
    fix_key: str
    note: str
    actor: str
    fixed: list[FixedFigurePublic]
    remaining: list[DiscrepancyPublic]
    replayed: bool
