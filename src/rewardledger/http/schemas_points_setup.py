"""Schemas of the points set-up routes: points assets with their expiry policy, and reason
codes with their pending and expiry settings (what ``rewardledger points configure`` and
``points reason`` set)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from rewardledger.domain import ids
from rewardledger.domain.limits import (
    ASSET_CODE_LENGTH_MAX,
    ASSET_SCALE_MAX,
    POINTS_EXPIRY_DAYS_MAX,
    POINTS_PENDING_SECONDS_MAX,
    REASON_LENGTH_MAX,
)
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason, Rounding
from rewardledger.http._points_common import public_of
from rewardledger.http.examples import example
from rewardledger.http.examples import points as samples
from rewardledger.http.fields import NEXT_CURSOR
from rewardledger.http.idempotency import IdempotencyKeyBody
from rewardledger.http.schemas import CreateModel, IsoTime, id_text
from rewardledger.services.points import DEFAULT_ASSET, PointsAsset

AssetField = Annotated[StrictStr, id_text(ids.ASSET_CODE_PATTERN, ASSET_CODE_LENGTH_MAX)]
Dtype = Annotated[
    StrictStr, id_text(ids.REASON_PATTERN, REASON_LENGTH_MAX), Field(examples=["birthday"])
]


class ExpiryBody(CreateModel, json_schema_extra=example(samples.EXPIRY_AFTER_365)):
    """When a lot's points expire: never (``none``), ``days`` after activation (``after``,
    optionally rounded up to the end of the month or year) or at one time (``fixed``)."""

    kind: Literal["none", "after", "fixed"] = "none"
    days: Annotated[
        StrictInt | None,
        Field(json_schema_extra={"minimum": 1, "maximum": POINTS_EXPIRY_DAYS_MAX}),
    ] = None
    rounding: Literal["none", "end_of_month", "end_of_year"] = "none"
    at: IsoTime | None = None

    def policy(self) -> ExpiryPolicy:
        return ExpiryPolicy(ExpiryKind(self.kind), self.days, Rounding(self.rounding), self.at)


class ExpiryPublic(BaseModel, json_schema_extra=example(samples.EXPIRY_AFTER_365)):
    kind: str
    days: int | None
    rounding: str
    at: str | None

    @classmethod
    def of(cls, policy: ExpiryPolicy) -> ExpiryPublic:
        return cls.model_validate(policy.to_json())


class PointsConfigure(CreateModel, json_schema_extra=example(samples.POINTS_CONFIGURE)):
    """Make an asset a points asset. Leave ``scale`` or ``expiry`` out to keep what exists."""

    asset: AssetField = DEFAULT_ASSET
    scale: Annotated[
        StrictInt | None, Field(json_schema_extra={"minimum": 0, "maximum": ASSET_SCALE_MAX})
    ] = None
    expiry: ExpiryBody | None = None
    idempotency_key: IdempotencyKeyBody = None


class PointsAssetUpdate(CreateModel, json_schema_extra=example(samples.POINTS_ASSET_UPDATE)):
    """A points asset's new expiry policy (lots earned before keep theirs)."""

    expiry: ExpiryBody
    idempotency_key: IdempotencyKeyBody = None


class PointsAssetPublic(BaseModel, json_schema_extra=example(samples.POINTS_ASSET)):
    asset: str
    scale: int
    expiry: ExpiryPublic

    @classmethod
    def of(cls, asset: PointsAsset) -> PointsAssetPublic:
        return cls(asset=asset.code, scale=asset.scale, expiry=ExpiryPublic.of(asset.expiry))


class PointsAssetListPublic(BaseModel, json_schema_extra=example(samples.POINTS_ASSET_LIST)):
    assets: list[PointsAssetPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class ReasonSettings(CreateModel, json_schema_extra=example(samples.REASON_SETTINGS)):
    """What a reason code does. Spend reasons: ``allow_negative``. Earn reasons: pending
    settings (``pending_seconds``, ``pending_until_activated``) and an ``expiry`` override."""

    allow_negative: StrictBool = False
    pending_seconds: Annotated[
        StrictInt | None,
        Field(json_schema_extra={"minimum": 1, "maximum": POINTS_PENDING_SECONDS_MAX}),
    ] = None
    pending_until_activated: StrictBool = False
    expiry: ExpiryBody | None = None
    idempotency_key: IdempotencyKeyBody = None

    def reason(self, direction: Direction, code: str) -> Reason:
        expiry = None if self.expiry is None else self.expiry.policy()
        return Reason(
            direction,
            code,
            self.allow_negative,
            self.pending_seconds,
            self.pending_until_activated,
            expiry,
        )


class ReasonCreate(ReasonSettings, json_schema_extra=example(samples.REASON_CREATE)):
    direction: Literal["earn", "spend"]
    dtype: Dtype


class ReasonPublic(BaseModel, json_schema_extra=example(samples.REASON)):
    direction: str
    dtype: str
    allow_negative: bool
    pending_seconds: int | None
    pending_until_activated: bool
    expiry: ExpiryPublic | None

    @classmethod
    def of(cls, reason: Reason) -> ReasonPublic:
        expiry = None if reason.expiry is None else ExpiryPublic.of(reason.expiry)
        return public_of(cls, reason, {"dtype": "code"}, expiry=expiry)


class ReasonListPublic(BaseModel, json_schema_extra=example(samples.REASON_LIST)):
    reasons: list[ReasonPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
