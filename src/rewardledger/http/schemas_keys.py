"""Request and response bodies of the API key routes: list, issue (once), revoke, rotate.

Owns: how a stored key is shown. Its secret appears only in the answer that issues it; a
listed, revoked or replayed key shows its metadata only (``services.api_keys``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from rewardledger.domain.limits import (
    ROTATION_OVERLAP_DEFAULT_SECONDS,
    ROTATION_OVERLAP_MAX_SECONDS,
)
from rewardledger.http.examples import core as samples
from rewardledger.http.examples import example
from rewardledger.http.fields import TransferId
from rewardledger.http.idempotency import key_body_field
from rewardledger.http.public import ViewPublic
from rewardledger.http.schemas import CreateModel, TenantPublic
from rewardledger.services.api_keys import (
    REPLAY_NOTE,
    IssuedOnce,
    Rotation,
    TenantCreated,
    tenant_replay_note,
)

_CREATED = datetime.fromisoformat("2026-03-01T09:00:00+00:00")


class ApiKeyInfo(ViewPublic, json_schema_extra=example(samples.API_KEY_INFO)):
    """A key's metadata; never its secret."""

    key_id: Annotated[str, Field(examples=["3f9a1c2b7d4e8f60"])]
    role: Annotated[str, Field(examples=["writer"])]
    label: Annotated[str | None, Field(examples=["checkout service"])]
    created_at: Annotated[datetime, Field(examples=[_CREATED])]
    revoked_at: datetime | None = Field(description="Set by a revocation: 401 from then on.")
    expires_at: datetime | None = Field(
        description="Set by a rotation: the key works until then and not after."
    )
    last_used_at: datetime | None = Field(
        description="The last authenticated request, to within a minute (written at most once "
        "a minute per key)."
    )


class ApiKeyIssuedPublic(ApiKeyInfo, json_schema_extra=example(samples.API_KEY_ISSUED)):
    """A key just issued. ``key`` is its secret, in this answer only; on a replay of the same
    Idempotency-Key it is null and ``note`` says why."""

    tenant_id: str
    key: str | None
    note: str | None = None

    @classmethod
    def issued(cls, made: IssuedOnce, replay_note: str = REPLAY_NOTE) -> ApiKeyIssuedPublic:
        info = ApiKeyInfo.of(made.stored)
        return cls(
            **info.model_dump(),
            tenant_id=made.stored.tenant_id,
            key=made.key,
            note=replay_note if made.replayed else None,
        )


class TenantCreatedPublic(BaseModel, json_schema_extra=example(samples.TENANT_CREATED)):
    """A new tenant and its first admin key, whose ``key`` is in this answer only (null on a
    replay of the same Idempotency-Key, with a ``note`` that says where more keys come from)."""

    tenant: TenantPublic
    api_key: ApiKeyIssuedPublic

    @classmethod
    def of(cls, created: TenantCreated) -> TenantCreatedPublic:
        return cls(
            tenant=TenantPublic.of(created.tenant),
            api_key=ApiKeyIssuedPublic.issued(created.key, tenant_replay_note(created.tenant.id)),
        )


class ApiKeyPagePublic(ViewPublic, json_schema_extra=example(samples.API_KEY_PAGE)):
    """Keys by key id. Pass ``next_cursor`` as ``cursor`` for the next page."""

    keys: list[ApiKeyInfo]
    next_cursor: str | None


class ApiKeyRotate(CreateModel, json_schema_extra=example(samples.API_KEY_ROTATE)):
    overlap_seconds: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=ROTATION_OVERLAP_MAX_SECONDS,
            description="How long the old key keeps working beside the new one.",
            examples=[ROTATION_OVERLAP_DEFAULT_SECONDS],
        ),
    ] = ROTATION_OVERLAP_DEFAULT_SECONDS
    idempotency_key: Annotated[
        TransferId | None, key_body_field("mints no second key", "rotate-merchant-key-2026-12")
    ] = None


class ApiKeyRotatedPublic(BaseModel, json_schema_extra=example(samples.API_KEY_ROTATED)):
    """The new key (its secret shown once) and the old one, now ending at its ``expires_at``."""

    new: ApiKeyIssuedPublic
    old: ApiKeyInfo

    @classmethod
    def of(cls, rotation: Rotation) -> ApiKeyRotatedPublic:
        return cls(new=ApiKeyIssuedPublic.issued(rotation.new), old=ApiKeyInfo.of(rotation.old))
