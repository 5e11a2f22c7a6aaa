"""Request and answer bodies of the webhook routes (``routes.webhooks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from rewardledger.domain.webhooks import EVENT_TYPE_PATTERN as EVENT_TYPE
from rewardledger.domain.webhooks import (
    WEBHOOK_DESCRIPTION_LENGTH_MAX,
    WEBHOOK_EVENT_TYPE_LENGTH_MAX,
    WEBHOOK_EVENT_TYPES_MAX,
    WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT,
    WEBHOOK_ROTATION_OVERLAP_SECONDS_MAX,
    WEBHOOK_URL_LENGTH_MAX,
    DeliveryStatus,
)
from rewardledger.events.webhooks import (
    EndpointWithSecret,
)
from rewardledger.http.examples import example
from rewardledger.http.examples import operations as samples
from rewardledger.http.fields import OPAQUE_CURSOR_PATTERN, IsoTime
from rewardledger.http.idempotency import IdempotencyKeyBody
from rewardledger.http.public import ViewPublic
from rewardledger.http.schemas import CreateModel

Url = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=WEBHOOK_URL_LENGTH_MAX,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[!-~]+$",
        description="Where to POST the events: an absolute http:// or https:// url.",
        examples=["https://example.com/hooks/rewardledger"],
    ),
]
EventTypes = Annotated[
    list[
        Annotated[
            StrictStr,
            Field(
                max_length=WEBHOOK_EVENT_TYPE_LENGTH_MAX,
                pattern=f"^(?:\\*|{EVENT_TYPE[1:-1]})$",
            ),
        ]
    ],
    Field(
        min_length=1,
        max_length=WEBHOOK_EVENT_TYPES_MAX,
        description='The event types to receive, or ["*"] for every type (docs/events.md).',
        examples=[["transfer.posted", "points.earned"], ["*"]],
    ),
]
Description = Annotated[
    StrictStr,
    Field(max_length=WEBHOOK_DESCRIPTION_LENGTH_MAX, pattern=r"^[^\x00]*$", examples=["CRM sync"]),
]
FeedCursor = Annotated[
    StrictStr,
    Field(
        pattern=OPAQUE_CURSOR_PATTERN,
        description="A feed cursor (an event's place, as GET .../events gives it).",
    ),
]


class EndpointCreate(CreateModel, json_schema_extra=example(samples.ENDPOINT_CREATE)):
    url: Url
    event_types: EventTypes = Field(default_factory=lambda: ["*"])
    description: Description = ""
    enabled: StrictBool = True
    idempotency_key: IdempotencyKeyBody = None


class EndpointUpdate(CreateModel, json_schema_extra=example(samples.ENDPOINT_UPDATE)):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: StrictBool | None = Field(
        default=None, description="false pauses deliveries (they wait, in order)."
    )


class SecretRotation(CreateModel, json_schema_extra=example(samples.SECRET_ROTATION)):
    overlap_seconds: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=WEBHOOK_ROTATION_OVERLAP_SECONDS_MAX,
            description="How long requests are signed with the old secret too (0: not at all).",
            examples=[86400],
        ),
    ] = WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT


class RedeliverRange(CreateModel, json_schema_extra=example(samples.REDELIVER_RANGE)):
    after: FeedCursor | None = Field(default=None, description="Start after this feed cursor.")
    until: FeedCursor | None = Field(default=None, description="End at this feed cursor.")
    since: IsoTime | None = Field(default=None, description="Events written at or after this.")
    until_time: IsoTime | None = Field(default=None, description="Events written before this.")


class EndpointPublic(ViewPublic, json_schema_extra=example(samples.ENDPOINT)):
    endpoint_id: str = Field(examples=["ep_0f3c9a51c2b84d7e9a1b2c3d4e5f6a7b"])
    url: str = Field(examples=["https://example.com/hooks/rewardledger"])
    event_types: list[str] = Field(examples=[["transfer.posted"]])
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        description="During a rotation's overlap: when the old secret stops signing."
    )


class EndpointSecretPublic(EndpointPublic, json_schema_extra=example(samples.ENDPOINT_SECRET)):
    secret: str = Field(
        description="The signing secret, shown this once: keep it to verify requests.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )

    @classmethod
    def with_secret(cls, created: EndpointWithSecret) -> EndpointSecretPublic:
        public = EndpointPublic.of(created.endpoint)
        return cls(**public.model_dump(), secret=created.secret)


class EndpointsPublic(ViewPublic, json_schema_extra=example(samples.ENDPOINTS)):
    endpoints: list[EndpointPublic]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: done.")


class AttemptPublic(ViewPublic, json_schema_extra=example(samples.ATTEMPT)):
    attempt: int = Field(examples=[1])
    attempted_at: datetime
    status_code: int | None = Field(description="null when no answer came (see error).")
    error: str | None = Field(examples=["ReadTimeout: timed out"])
    latency_ms: int = Field(examples=[42])
    response_excerpt: str = Field(description="The start of the receiver's answer.")


class DeliveryPublic(ViewPublic, json_schema_extra=example(samples.DELIVERY)):
    event_id: str
    event_type: str = Field(examples=["transfer.posted"])
    subject_id: str
    status: DeliveryStatus
    tries: int = Field(description="Attempts of the current round (a redelivery starts one).")
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptPublic]


class DeliveriesPublic(ViewPublic, json_schema_extra=example(samples.DELIVERIES)):
    deliveries: list[DeliveryPublic]
    next_cursor: str | None


class RedeliveryPublic(BaseModel, json_schema_extra=example(samples.REDELIVERY)):
    scheduled: int = Field(description="Deliveries scheduled for a new round.", examples=[3])
    next_cursor: str | None = Field(
        default=None, description="The range was cut at its limit: call again with after=this."
    )
