"""Schemas of the points and redemptions routes (issue 4): what clients send and get back.

Amounts are decimal strings; ``quantity`` is signed as in the seed's ``fact_accumulations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr

from rewardledger.domain import ids
from rewardledger.domain.limits import (
    ASSET_CODE_LENGTH_MAX,
    HOLDER_ID_LENGTH_MAX,
    OFFER_ID_LENGTH_MAX,
    REASON_LENGTH_MAX,
    REDEMPTION_TTL_SECONDS_DEFAULT,
    REDEMPTION_TTL_SECONDS_MAX,
    TRANSFER_ID_LENGTH_MAX,
)
from rewardledger.http._points_common import public_of
from rewardledger.http.examples import example
from rewardledger.http.examples import points as samples
from rewardledger.http.fields import NEXT_CURSOR
from rewardledger.http.schemas import CreateModel, DecimalString, Metadata, id_text
from rewardledger.services.points import (
    DEFAULT_ASSET,
    Accumulation,
    AccumulationPage,
    FixReport,
    HolderIntegrity,
    PointsBalance,
    PointsMovement,
)
from rewardledger.services.redemptions import Redemption

Reference = Annotated[
    StrictStr,
    id_text(ids.TRANSFER_ID_PATTERN, TRANSFER_ID_LENGTH_MAX),
    Field(
        description="Your id for this request: its idempotency key (a retry returns the first "
        "result).",
    ),
]
IdempotencyKeyField = Annotated[
    Reference | None,
    Field(
        description="This write's idempotency key, and the id of the lot or redemption it "
        "makes; the same as the Idempotency-Key header (send either, or the same in both).",
        examples=["invoice-20250314-0042"],
    ),
]
DeprecatedReference = Annotated[
    Reference | None,
    Field(
        json_schema_extra={"deprecated": True},
        description="Deprecated: the old name of idempotency_key.",
    ),
]
AssetField = Annotated[StrictStr, id_text(ids.ASSET_CODE_PATTERN, ASSET_CODE_LENGTH_MAX)]
# A redemption code as a person types it: 10 characters of the code's alphabet (O, I and L
# are read as 0, 1 and 1), with spaces or dashes anywhere.
CODE_TYPED_PATTERN = r"^[ -]*(?:[0-9A-TV-Za-tv-z][ -]*){10}$"


class PointsMoveCreate(CreateModel, json_schema_extra=example(samples.POINTS_MOVE_CREATE)):
    amount: DecimalString
    dtype: Annotated[
        StrictStr, id_text(ids.REASON_PATTERN, REASON_LENGTH_MAX), Field(examples=["invoice"])
    ]
    idempotency_key: IdempotencyKeyField = None
    reference: DeprecatedReference = None
    asset: AssetField = DEFAULT_ASSET
    metadata: Metadata | None = None


class ActivateCreate(CreateModel, json_schema_extra=example(samples.ACTIVATE_CREATE)):
    reference: Reference
    cancel: bool = False


class LotPublic(BaseModel, json_schema_extra=example(samples.LOT)):
    lot_id: str
    amount: str


class PointsMovePublic(BaseModel, json_schema_extra=example(samples.POINTS_MOVE)):
    id: str
    user_id: str
    asset: str
    accum_type: str
    dtype: str
    quantity: str
    pending: bool
    negative_allowed: bool
    lots: list[LotPublic]
    replayed: bool

    @classmethod
    def of(cls, m: PointsMovement) -> PointsMovePublic:
        lots = [LotPublic(lot_id=lot, amount=str(a)) for lot, a in m.lots]
        return public_of(cls, m, {"user_id": "holder_id"}, lots=lots)


class PointsBalancePublic(BaseModel, json_schema_extra=example(samples.POINTS_BALANCE)):
    """The seed's ``fact_balance_points`` row, with what is pending and spendable."""

    user_id: str
    asset: str
    balance: str
    available: str
    pending: str
    latest_update: datetime | None
    as_of: datetime | None

    @classmethod
    def of(cls, b: PointsBalance) -> PointsBalancePublic:
        return public_of(cls, b, {"user_id": "holder_id"})


class AccumulationPublic(BaseModel, json_schema_extra=example(samples.ACCUMULATION)):
    """One row of the seed's ``fact_accumulations``."""

    id: str
    user_id: str
    accum_type: str
    dtype: str | None
    quantity: str
    balance: str
    date: datetime
    redemption_id: str | None
    negative_allowed: bool

    @classmethod
    def of(cls, a: Accumulation) -> AccumulationPublic:
        return public_of(cls, a)


class AccumulationsPublic(BaseModel, json_schema_extra=example(samples.ACCUMULATIONS)):
    user_id: str
    accumulations: list[AccumulationPublic]
    next_cursor: str | None

    @classmethod
    def of(cls, page: AccumulationPage) -> AccumulationsPublic:
        return cls(
            user_id=page.holder_id,
            accumulations=[AccumulationPublic.of(a) for a in page.rows],
            next_cursor=page.next_cursor,
        )


class ExpiringPublic(BaseModel, json_schema_extra=example(samples.EXPIRING)):
    expires_at: datetime
    amount: str


class ExpiringListPublic(BaseModel, json_schema_extra=example(samples.EXPIRING_LIST)):
    user_id: str
    expiring: list[ExpiringPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class LedgerSummaryPublic(BaseModel, json_schema_extra=example(samples.LEDGER_SUMMARY)):
    """One row of the seed's ``v_ledger_summary``."""

    user_id: str
    asset: str
    earned: str
    spent: str
    expired: str
    balance: str
    ledger_balance: str
    lots_balance: str
    rows: int
    integrity_status: str

    @classmethod
    def of(cls, line: HolderIntegrity) -> LedgerSummaryPublic:
        return public_of(cls, line)


class LedgerSummaryListPublic(BaseModel, json_schema_extra=example(samples.LEDGER_SUMMARY_LIST)):
    """Holders of one ``integrity_status`` (``validate_balance_integrity``), a page at a time."""

    holders: list[LedgerSummaryPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class LedgerSummaryPagePublic(BaseModel, json_schema_extra=example(samples.LEDGER_SUMMARY_PAGE)):
    holders: list[LedgerSummaryPublic]
    next_cursor: str | None = Field(
        description="Pass as ``cursor`` for the next page; null on the last page.",
        examples=["WyJMVU1JUyIsIm1lbWJlci0wMDAwMiJd"],
    )


class FixPublic(BaseModel, json_schema_extra=example(samples.POINTS_FIX)):
    repair_id: str
    changes: int
    still_mismatched: list[LedgerSummaryPublic]

    @classmethod
    def of(cls, report: FixReport) -> FixPublic:
        return cls(
            repair_id=report.repair.repair_id,
            changes=len(report.repair.changes),
            still_mismatched=[LedgerSummaryPublic.of(x) for x in report.still_mismatched],
        )


class RedemptionCreate(CreateModel, json_schema_extra=example(samples.REDEMPTION_CREATE)):
    user_id: Annotated[StrictStr, id_text(ids.ACCOUNT_ID_PATTERN, HOLDER_ID_LENGTH_MAX)]
    offer_id: Annotated[
        StrictStr, Field(min_length=1, max_length=OFFER_ID_LENGTH_MAX, pattern=r"^[^\x00]+$")
    ]
    cost: DecimalString
    idempotency_key: IdempotencyKeyField = None
    reference: DeprecatedReference = None
    asset: AssetField = DEFAULT_ASSET
    ttl_seconds: Annotated[StrictInt, Field(ge=1, le=REDEMPTION_TTL_SECONDS_MAX)] = (
        REDEMPTION_TTL_SECONDS_DEFAULT
    )


class ConfirmCreate(CreateModel, json_schema_extra=example(samples.CONFIRM_CREATE)):
    code: Annotated[
        StrictStr, Field(max_length=40, json_schema_extra={"pattern": CODE_TYPED_PATTERN})
    ]


class RedemptionPublic(BaseModel, json_schema_extra=example(samples.REDEMPTION)):
    """The seed's ``user_redemptions`` row."""

    redemption_id: str
    code: str
    user_id: str
    asset: str
    offer_id: str
    cost: str
    state: str
    created_at: datetime
    expires_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    refunded: str
    forfeited: str

    @classmethod
    def of(cls, r: Redemption) -> RedemptionPublic:
        return public_of(cls, r, {"user_id": "holder_id"})


class RedemptionPagePublic(BaseModel, json_schema_extra=example(samples.REDEMPTION_PAGE)):
    """Redemptions by id. Pass ``next_cursor`` as ``cursor`` for the next page."""

    redemptions: list[RedemptionPublic]
    next_cursor: str | None
