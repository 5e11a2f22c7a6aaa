"""Schemas: the JSON shapes of HTTP API v1, and their translation to and from the domain.

Owns: ``*Create`` models (what a client sends) and ``*Public`` models (what it gets back).
Requests are strict: unknown fields and wrong JSON types are refused (422) before the ledger
is called, so ``"true"`` is not a boolean and ``12.5`` is not an amount. Amounts cross this edge
as decimal strings only (``str(Amount)``), times as ISO 8601 with an offset.

The rules of values (id shapes, an amount's decimals for its asset) are checked once, by the
domain; the schemas check types and bounds and give the domain its inputs. A few checks here go
further than the domain does today, because without them some malformed input reaches the
database or the standard library and fails as a 500 instead of a 422: text with NUL characters
or unpaired surrogates, metadata nested deeper than the domain's recursive checks can walk,
times whose conversion to UTC or to the tenant's zone overflows, path ids outside the id
alphabet, and time zone names that are directories of the zone database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from rewardledger.domain import ids
from rewardledger.domain.access import Role
from rewardledger.domain.accounts import Account
from rewardledger.domain.limits import (
    ASSET_SCALE_MAX,
    BATCH_SIZE_MAX,
    KIND_LENGTH_MAX,
    PENDING_TIMEOUT_SECONDS_MAX,
    REASON_LENGTH_MAX,
    TIMEZONE_NAME_LENGTH_MAX,
)
from rewardledger.domain.money import Amount
from rewardledger.domain.transfers import (
    DEFAULT_KIND,
    PostPending,
    Transfer,
    TransferRequest,
    VoidPending,
)
from rewardledger.http.examples import core as samples
from rewardledger.http.examples import example
from rewardledger.http.fields import (
    ACCOUNT_ID_PATH_PATTERN,
    CURSOR_PATTERN,
    OPAQUE_CURSOR_PATTERN,
    TENANT_ID_PATH_PATTERN,
    TEXT_PATTERN,
    TIME_YEARS_PATTERN,
    TRANSFER_ID_PATH_PATTERN,
    AccountId,
    AssetCode,
    DecimalString,
    IsoTime,
    Metadata,
    Name,
    TenantId,
    TransferId,
    bounded_int,
    id_text,
    parse_time,
)
from rewardledger.http.idempotency import IdempotencyKeyBody, key_body_field
from rewardledger.http.public import ViewPublic
from rewardledger.http.schemas_reports import (
    DiscrepancyPublic,
    HealthPublic,
    IntegrityReportPublic,
    ProblemPublic,
    RepairReportPublic,
)
from rewardledger.ledger.results import (
    BalanceView,
    HistoryEntry,
    HistoryPage,
    TransferResult,
)


class CreateModel(BaseModel):
    """Base of request bodies: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Tenants and keys ----------------------------------------------------------------------------


class TenantCreate(CreateModel, json_schema_extra=example(samples.TENANT_CREATE)):
    id: Annotated[TenantId, Field(examples=["acme"])]
    name: Name | None = None
    timezone: Annotated[
        StrictStr,
        Field(max_length=TIMEZONE_NAME_LENGTH_MAX, examples=["America/Panama"]),
    ] = "UTC"
    idempotency_key: IdempotencyKeyBody = None


class TenantPublic(ViewPublic, json_schema_extra=example(samples.TENANT_PUBLIC)):
    id: str
    name: str
    timezone: str
    created_at: datetime


class ApiKeyCreate(CreateModel, json_schema_extra=example(samples.API_KEY_CREATE)):
    role: Annotated[
        StrictStr,
        Field(max_length=16, json_schema_extra={"enum": [role.value for role in Role]}),
    ]
    label: Name | None = None
    idempotency_key: Annotated[
        TransferId | None, key_body_field("issues no second key", "issue-merchant-key-1")
    ] = None


# Assets and accounts -------------------------------------------------------------------------


class AssetCreate(CreateModel, json_schema_extra=example(samples.ASSET_CREATE)):
    code: Annotated[AssetCode, Field(examples=["USD", "LUMIS"])]
    scale: Annotated[StrictInt, Field(ge=0, le=ASSET_SCALE_MAX, examples=[2, 0])]
    name: Name | None = None
    idempotency_key: IdempotencyKeyBody = None


class AssetPublic(ViewPublic, json_schema_extra=example(samples.ASSET_PUBLIC)):
    code: str
    scale: int
    name: str
    created_at: datetime


class AccountCreate(CreateModel, json_schema_extra=example(samples.ACCOUNT_CREATE)):
    id: Annotated[AccountId, Field(examples=["member:00042:LUMIS"])]
    asset: AssetCode
    no_negative: StrictBool = False
    metadata: Metadata | None = None
    idempotency_key: IdempotencyKeyBody = None


class BalancesPublic(BaseModel, json_schema_extra=example(samples.BALANCES)):
    posted: str
    available: str
    pending_debits: str
    pending_credits: str


class AccountPublic(BaseModel, json_schema_extra=example(samples.ACCOUNT_PUBLIC)):
    id: str
    asset: str
    no_negative: bool
    metadata: dict[str, Any]
    balances: BalancesPublic
    entry_count: int
    created_at: datetime
    updated_at: datetime
    # The service that alone moves the account (points, budgets, debt, cashback), or null.
    managed_by: str | None = None

    @classmethod
    def of(cls, account: Account, scale: int) -> AccountPublic:
        b = account.balances
        return cls(
            id=account.id,
            asset=account.asset_code,
            no_negative=account.no_negative,
            metadata=dict(account.metadata),
            balances=BalancesPublic(
                posted=str(Amount(b.posted, scale)),
                available=str(Amount(b.available, scale)),
                pending_debits=str(Amount(b.debits_pending, scale)),
                pending_credits=str(Amount(b.credits_pending, scale)),
            ),
            entry_count=account.entry_count,
            created_at=account.created_at,
            updated_at=account.updated_at,
            managed_by=account.managed_by,
        )


class BalancePublic(BaseModel, json_schema_extra=example(samples.BALANCE_PUBLIC)):
    """Balances now; or, with ``at``, the posted balance as of then (the others are null)."""

    account_id: str
    asset: str
    at: datetime | None
    posted: str
    available: str | None
    pending_debits: str | None
    pending_credits: str | None

    @classmethod
    def of(cls, view: BalanceView) -> BalancePublic:
        return cls(
            account_id=view.account_id,
            asset=view.asset_code,
            at=view.at,
            posted=str(view.posted),
            available=_text(view.available),
            pending_debits=_text(view.pending_debits),
            pending_credits=_text(view.pending_credits),
        )


def _text(amount: Amount | None) -> str | None:
    return None if amount is None else str(amount)


# Transfers -----------------------------------------------------------------------------------


class TransferItemCreate(CreateModel, json_schema_extra=example(samples.TRANSFER_ITEM_CREATE)):
    """One transfer of a batch: what it moves; ``idempotency_key`` is its id (``ref``, the old
    name, is deprecated and still taken)."""

    idempotency_key: Annotated[
        TransferId | None,
        Field(
            description="The transfer's id and idempotency key (for a single transfer, the "
            "same as the Idempotency-Key header).",
            examples=["order-7731-cashback"],
        ),
    ] = None
    ref: Annotated[
        TransferId | None,
        Field(
            json_schema_extra={"deprecated": True},
            description="Deprecated: the old name of idempotency_key.",
        ),
    ] = None
    debit_account_id: AccountId
    credit_account_id: AccountId
    asset: AssetCode
    amount: DecimalString
    kind: Annotated[StrictStr, id_text(ids.KIND_PATTERN, KIND_LENGTH_MAX)] | None = None
    reason: Annotated[StrictStr, id_text(ids.REASON_PATTERN, REASON_LENGTH_MAX)] | None = None
    pending: StrictBool = False
    timeout_seconds: Annotated[StrictInt, Field(ge=1, le=PENDING_TIMEOUT_SECONDS_MAX)] | None = None
    effective_at: IsoTime | None = None
    metadata: Metadata | None = None

    def to_request(self, transfer_id: str) -> TransferRequest:
        return TransferRequest(
            id=transfer_id,
            debit_account_id=self.debit_account_id,
            credit_account_id=self.credit_account_id,
            asset=self.asset,
            amount=self.amount,
            kind=self.kind if self.kind is not None else DEFAULT_KIND,
            reason=self.reason,
            pending=self.pending,
            timeout_seconds=self.timeout_seconds,
            effective_at=self.effective_at,
            metadata=self.metadata,
        )


class TransferCreate(
    TransferItemCreate,
    json_schema_extra=example(samples.TRANSFER_CREATE, samples.TRANSFER_HOLD_CREATE),
):
    dry_run: StrictBool = False


class TransferBatchCreate(CreateModel, json_schema_extra=example(samples.TRANSFER_BATCH_CREATE)):
    transfers: Annotated[list[TransferItemCreate], Field(min_length=1, max_length=BATCH_SIZE_MAX)]
    atomic: StrictBool = True
    dry_run: StrictBool = False


class PostCreate(CreateModel, json_schema_extra=example(samples.POST_CREATE)):
    """Post a pending transfer: in full, or for ``amount`` (less; the rest is released)."""

    idempotency_key: Annotated[
        TransferId | None, Field(description="The posting's id; default '<id>.post'.")
    ] = None
    amount: DecimalString | None = None
    metadata: Metadata | None = None
    effective_at: IsoTime | None = None
    dry_run: StrictBool = False

    def to_operation(self, pending_id: str, transfer_id: str | None) -> PostPending:
        return PostPending(pending_id, transfer_id, self.amount, self.effective_at, self.metadata)


class VoidCreate(CreateModel, json_schema_extra=example(samples.VOID_CREATE)):
    idempotency_key: Annotated[
        TransferId | None, Field(description="The void's id; default '<id>.void'.")
    ] = None
    metadata: Metadata | None = None
    dry_run: StrictBool = False

    def to_operation(self, pending_id: str, transfer_id: str | None) -> VoidPending:
        return VoidPending(pending_id, transfer_id, self.metadata)


class TransferPublic(BaseModel, json_schema_extra=example(samples.TRANSFER_PUBLIC)):
    """One journal row. For a pending transfer, ``state`` and ``resolved_by`` say where it is."""

    id: str
    phase: str
    state: str
    resolved_by: str | None
    kind: str
    reason: str | None
    asset: str
    amount: str
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    expires_at: datetime | None
    effective_at: datetime
    created_at: datetime
    cycle_tag: str
    metadata: dict[str, Any]
    debit_balance_after: str
    credit_balance_after: str

    @classmethod
    def of(cls, transfer: Transfer) -> TransferPublic:
        return cls(
            id=transfer.id,
            phase=transfer.phase.value,
            state=transfer.state.value,
            resolved_by=transfer.resolved_by,
            kind=transfer.kind,
            reason=transfer.reason,
            asset=transfer.asset_code,
            amount=str(transfer.amount),
            debit_account_id=transfer.debit_account_id,
            credit_account_id=transfer.credit_account_id,
            pending_id=transfer.pending_id,
            expires_at=transfer.expires_at,
            effective_at=transfer.effective_at,
            created_at=transfer.created_at,
            cycle_tag=transfer.cycle_tag,
            metadata=dict(transfer.metadata),
            debit_balance_after=str(Amount(transfer.debit_balance_after_minor, transfer.scale)),
            credit_balance_after=str(Amount(transfer.credit_balance_after_minor, transfer.scale)),
        )


class TransferResultPublic(
    BaseModel, json_schema_extra=example(samples.TRANSFER_RESULT, samples.TRANSFER_REFUSED)
):
    """One item of a batch: its transfer, or the error ``{code, message, ...context}``."""

    index: int
    id: str
    ok: bool
    replayed: bool
    transfer: TransferPublic | None
    error: dict[str, Any] | None

    @classmethod
    def of(cls, index: int, result: TransferResult) -> TransferResultPublic:
        return cls(
            index=index,
            id=result.id,
            ok=result.ok,
            replayed=result.replayed,
            transfer=None if result.transfer is None else TransferPublic.of(result.transfer),
            error=None if result.error is None else result.error.to_dict(),
        )


class TransferBatchPublic(BaseModel, json_schema_extra=example(samples.TRANSFER_BATCH_PUBLIC)):
    atomic: bool
    dry_run: bool
    results: list[TransferResultPublic]


# Reads ---------------------------------------------------------------------------------------


class HistoryEntryPublic(BaseModel, json_schema_extra=example(samples.HISTORY_ENTRY)):
    """One entry of an account: the transfer, the side the account is on, and its effect."""

    seq: int
    side: str
    posted_change: str
    pending_change: str
    balance_after: str
    transfer: TransferPublic

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryPublic:
        return cls(
            seq=entry.seq,
            side=entry.side,
            posted_change=str(entry.posted_change),
            pending_change=str(entry.pending_change),
            balance_after=str(entry.balance_after),
            transfer=TransferPublic.of(entry.transfer),
        )


class HistoryPublic(BaseModel, json_schema_extra=example(samples.HISTORY_PUBLIC)):
    """Entries newest first. Pass ``next_cursor`` as ``cursor`` for the next (older) page."""

    account_id: str
    entries: list[HistoryEntryPublic]
    next_cursor: str | None

    @classmethod
    def of(cls, page: HistoryPage) -> HistoryPublic:
        return cls(
            account_id=page.account_id,
            entries=[HistoryEntryPublic.of(entry) for entry in page.entries],
            next_cursor=page.next_cursor,
        )


# The report schemas live in schemas_reports; they are named here for the routes.
__all__ = [
    "ACCOUNT_ID_PATH_PATTERN",
    "CURSOR_PATTERN",
    "OPAQUE_CURSOR_PATTERN",
    "TENANT_ID_PATH_PATTERN",
    "TEXT_PATTERN",
    "TIME_YEARS_PATTERN",
    "TRANSFER_ID_PATH_PATTERN",
    "AccountId",
    "AssetCode",
    "DecimalString",
    "DiscrepancyPublic",
    "HealthPublic",
    "IntegrityReportPublic",
    "IsoTime",
    "Metadata",
    "Name",
    "ProblemPublic",
    "RepairReportPublic",
    "TenantId",
    "TransferId",
    "bounded_int",
    "id_text",
    "parse_time",
]
