"""Schemas of the cashback, debt and cycles routes: the seeds' columns as decimal strings.

Owns: the JSON shapes of cashback and debt movements, programmes and ledger rows, and the CSV
columns of the ledger exports (the seeds' names, in the seeds' order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from rewardledger.domain import ids
from rewardledger.domain.cycles import (
    TAG_PATTERN,
    CashbackAccountSettings,
    CashbackMovement,
    CashbackProgram,
    CashbackRow,
    DebtMovement,
    DebtProgram,
    DebtRow,
    LedgerName,
    row_id,
)
from rewardledger.domain.limits import (
    CYCLE_GRACE_DAYS_MAX,
    CYCLE_HOLDER_ID_LENGTH_MAX,
    CYCLE_MOVEMENT_ID_LENGTH_MAX,
)
from rewardledger.domain.money import format_minor
from rewardledger.http.examples import cycles as samples
from rewardledger.http.examples import example
from rewardledger.http.schemas import (
    AccountId,
    AssetCode,
    CreateModel,
    DecimalString,
    IsoTime,
    bounded_int,
    id_text,
)

TagText = Annotated[
    StrictStr, Field(max_length=10, pattern=TAG_PATTERN, description="A cycle tag, YYYY-MM.")
]
HolderId = Annotated[StrictStr, id_text(ids.ACCOUNT_ID_PATTERN, CYCLE_HOLDER_ID_LENGTH_MAX)]
IDEMPOTENCY_KEY_FIELD = (
    "The movement's id and idempotency key; the same as the Idempotency-Key header (send "
    "either, or the same value in both)."
)
DEPRECATED_ID = "Deprecated (kept for one release): the old name of idempotency_key."
MovementId = Annotated[StrictStr, id_text(ids.TRANSFER_ID_PATTERN, CYCLE_MOVEMENT_ID_LENGTH_MAX)]
# A movement's ``id`` in the body: the old name of ``idempotency_key``.
DeprecatedId = Annotated[
    MovementId | None, Field(json_schema_extra={"deprecated": True}, description=DEPRECATED_ID)
]
GraceDays = Annotated[StrictInt, bounded_int(0, CYCLE_GRACE_DAYS_MAX)]
DayOfMonth = Annotated[StrictInt, bounded_int(1, 31)]


class CashbackProgramCreate(
    CreateModel, json_schema_extra=example(samples.CASHBACK_PROGRAM_CREATE)
):
    currency: AssetCode
    minimum_spend: DecimalString
    default_cap: DecimalString
    grace_days: GraceDays = 0


class CashbackProgramPublic(BaseModel, json_schema_extra=example(samples.CASHBACK_PROGRAM)):
    currency: str
    minimum_spend: str
    default_cap: str
    grace_days: int

    @classmethod
    def of(cls, program: CashbackProgram, scale: int) -> CashbackProgramPublic:
        return cls(
            currency=program.currency,
            minimum_spend=format_minor(program.minimum_spend_minor, scale),
            default_cap=format_minor(program.default_cap_minor, scale),
            grace_days=program.grace_days,
        )


class CashbackAccountCreate(
    CreateModel, json_schema_extra=example(samples.CASHBACK_ACCOUNT_CREATE)
):
    default_cap: DecimalString | None = None
    enrolled: StrictBool = True


class CashbackAccountPublic(BaseModel, json_schema_extra=example(samples.CASHBACK_ACCOUNT)):
    account_id: str
    default_cap: str | None
    enrolled: bool

    @classmethod
    def of(cls, settings: CashbackAccountSettings, scale: int) -> CashbackAccountPublic:
        cap = settings.default_cap_minor
        return cls(
            account_id=settings.account_id,
            default_cap=None if cap is None else format_minor(cap, scale),
            enrolled=settings.enrolled,
        )


class CashbackMovementCreate(
    CreateModel, json_schema_extra=example(samples.CASHBACK_MOVEMENT_CREATE)
):
    """An ``accrual`` (account_id, spend, cashback...) or a ``reversal`` (reverses_id)."""

    kind: Annotated[StrictStr, Field(pattern="^(accrual|reversal)$")] = "accrual"
    idempotency_key: Annotated[
        MovementId | None,
        Field(description=IDEMPOTENCY_KEY_FIELD, examples=["invoice-20250314-0042"]),
    ] = None
    id: DeprecatedId = None
    account_id: AccountId | None = None
    spend: DecimalString | None = None
    cashback: DecimalString | None = None
    currency: AssetCode | None = None
    occurred_at: IsoTime | None = None
    cycle_tag: TagText | None = None
    budget_cap: DecimalString | None = None
    override: StrictBool = False
    reverses_id: MovementId | None = None


class CashbackMovementPublic(BaseModel, json_schema_extra=example(samples.CASHBACK_MOVEMENT)):
    id: str
    kind: str
    account_id: str
    cycle_tag: str
    spend: str
    requested_cashback: str
    cashback_amount: str
    budget_cap: str | None
    override: bool
    reverses_id: str | None
    transfer_id: str | None
    occurred_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, movement: CashbackMovement, scale: int) -> CashbackMovementPublic:
        cap = movement.budget_cap_minor
        return cls(
            id=movement.id,
            kind=movement.kind.value,
            account_id=movement.account_id,
            cycle_tag=movement.cycle_tag,
            spend=format_minor(movement.spend_minor, scale),
            requested_cashback=format_minor(movement.requested_minor, scale),
            cashback_amount=format_minor(movement.cashback_minor, scale),
            budget_cap=None if cap is None else format_minor(cap, scale),
            override=movement.override,
            reverses_id=movement.reverses_id,
            transfer_id=movement.transfer_id,
            occurred_at=movement.occurred_at,
            recorded_at=movement.recorded_at,
        )


class CashbackLedgerPublic(BaseModel, json_schema_extra=example(samples.CASHBACK_LEDGER_ROW)):
    """One ``cashback_ledger`` row (the seed's columns)."""

    cashback_ledger_id: str
    account_id: str
    cycle_tag: str
    total_spend: str
    total_cashback: str
    budget_cap: str
    eligibility: str
    remaining_budget: str
    status: str
    notes: str | None
    last_updated: datetime

    @classmethod
    def of(
        cls, tenant_id: str, row: CashbackRow, last_updated: datetime, scale: int
    ) -> CashbackLedgerPublic:
        return cls(
            cashback_ledger_id=row_id(
                LedgerName.CASHBACK, tenant_id, row.account_id, row.cycle_tag
            ),
            account_id=row.account_id,
            cycle_tag=row.cycle_tag,
            total_spend=format_minor(row.total_spend_minor, scale),
            total_cashback=format_minor(row.total_cashback_minor, scale),
            budget_cap=format_minor(row.budget_cap_minor, scale),
            eligibility=row.eligibility.value,
            remaining_budget=format_minor(row.remaining_budget_minor, scale),
            status=row.status.value,
            notes=row.notes,
            last_updated=last_updated,
        )


# The export's columns: the row's fields, which are the seed's columns in the seed's order.
CASHBACK_CSV_COLUMNS = tuple(CashbackLedgerPublic.model_fields)


class CashbackLedgerPage(BaseModel, json_schema_extra=example(samples.CASHBACK_LEDGER_PAGE)):
    rows: list[CashbackLedgerPublic]
    next_cursor: str | None


class ApplyToDebtCreate(CreateModel, json_schema_extra=example(samples.APPLY_TO_DEBT_CREATE)):
    person_id: HolderId
    debt_cycle_tag: TagText | None = None


class DebtProgramCreate(CreateModel, json_schema_extra=example(samples.DEBT_PROGRAM_CREATE)):
    currency: AssetCode
    closing_day: DayOfMonth = 31
    due_day: DayOfMonth = 15
    grace_days: GraceDays = 0


class DebtProgramPublic(BaseModel, json_schema_extra=example(samples.DEBT_PROGRAM)):
    currency: str
    closing_day: int
    due_day: int
    grace_days: int

    @classmethod
    def of(cls, program: DebtProgram) -> DebtProgramPublic:
        return cls(
            currency=program.currency,
            closing_day=program.closing_day,
            due_day=program.due_day,
            grace_days=program.grace_days,
        )


class DebtMovementCreate(CreateModel, json_schema_extra=example(samples.DEBT_MOVEMENT_CREATE)):
    idempotency_key: Annotated[
        MovementId | None,
        Field(description=IDEMPOTENCY_KEY_FIELD, examples=["loan-00017-repay-3"]),
    ] = None
    id: DeprecatedId = None
    person_id: HolderId
    kind: Annotated[StrictStr, Field(pattern="^(opening|charge|repayment|discount)$")]
    amount: DecimalString
    currency: AssetCode | None = None
    cycle_tag: TagText | None = None
    due_at: IsoTime | None = None
    occurred_at: IsoTime | None = None


class DebtMovementPublic(BaseModel, json_schema_extra=example(samples.DEBT_MOVEMENT)):
    id: str
    person_id: str
    kind: str
    amount: str
    cycle_tag: str
    due_at: datetime | None
    transfer_id: str | None
    occurred_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, movement: DebtMovement, scale: int) -> DebtMovementPublic:
        return cls(
            id=movement.id,
            person_id=movement.person_id,
            kind=movement.kind.value,
            amount=format_minor(movement.amount_minor, scale),
            cycle_tag=movement.cycle_tag,
            due_at=movement.due_at,
            transfer_id=movement.transfer_id,
            occurred_at=movement.occurred_at,
            recorded_at=movement.recorded_at,
        )


class DebtLedgerPublic(BaseModel, json_schema_extra=example(samples.DEBT_LEDGER_ROW)):
    """One ``debt_ledger`` row (the seed's columns, plus the ``due_at`` that sets overdue)."""

    debt_ledger_id: str
    person_id: str
    cycle_tag: str
    initial_debt: str
    new_debt: str
    repayments: str
    debt_discount: str
    net_debt: str
    status: str
    due_at: datetime
    last_updated: datetime
    notes: str | None

    @classmethod
    def of(
        cls, tenant_id: str, row: DebtRow, last_updated: datetime, scale: int
    ) -> DebtLedgerPublic:
        return cls(
            debt_ledger_id=row_id(LedgerName.DEBT, tenant_id, row.person_id, row.cycle_tag),
            person_id=row.person_id,
            cycle_tag=row.cycle_tag,
            initial_debt=format_minor(row.initial_debt_minor, scale),
            new_debt=format_minor(row.new_debt_minor, scale),
            repayments=format_minor(row.repayments_minor, scale),
            debt_discount=format_minor(row.debt_discount_minor, scale),
            net_debt=format_minor(row.net_debt_minor, scale),
            status=row.status.value,
            due_at=row.due_at,
            last_updated=last_updated,
            notes=row.notes,
        )


# The seed's columns in its order, and the ``due_at`` that sets overdue.
DEBT_CSV_COLUMNS = tuple(DebtLedgerPublic.model_fields)


class DebtLedgerPage(BaseModel, json_schema_extra=example(samples.DEBT_LEDGER_PAGE)):
    rows: list[DebtLedgerPublic]
    next_cursor: str | None


class CycleSettingsCreate(CreateModel, json_schema_extra=example(samples.CYCLE_SETTINGS_CREATE)):
    refresh_mode: Annotated[StrictStr, Field(pattern="^(inline|job)$")]


class CycleSettingsPublic(BaseModel, json_schema_extra=example(samples.CYCLE_SETTINGS)):
    refresh_mode: str


class CycleRunPublic(BaseModel, json_schema_extra=example(samples.CYCLE_RUN)):
    """What a refresh or rebuild did: pairs recomputed, rows whose values changed."""

    pairs: int
    rows_changed: int
