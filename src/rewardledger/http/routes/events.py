"""Events: replay a tenant's event feed from a cursor (reader and up).

Each event is the envelope NATS and webhooks carry (docs/events.md): ``id`` (the event id, to
de-duplicate on), ``type``, ``version``, ``tenant_id``, ``subject_id``, ``occurred_at`` and
``data``. Pass ``next_cursor`` back as ``after`` to continue; an empty page answers the same
cursor, so a consumer polls with it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from rewardledger.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from rewardledger.events.catalogue import CATALOGUE
from rewardledger.events.replay import replay
from rewardledger.http.deps import LedgerDep, Reader
from rewardledger.http.examples import example
from rewardledger.http.examples import operations as samples
from rewardledger.http.problems import tenant_route_problems
from rewardledger.http.schemas import OPAQUE_CURSOR_PATTERN

router = APIRouter(tags=["events"])


class EventEnvelopePublic(BaseModel, json_schema_extra=example(samples.EVENT)):
    id: str = Field(description="The event's id: the same on every delivery, to de-duplicate.")
    type: str = Field(examples=["transfer.posted"])
    version: int = Field(description="The payload's version (docs/events.md).", examples=[1])
    tenant_id: str = Field(examples=["acme"])
    subject_id: str = Field(description="What the event is about (a transfer id, a budget id…).")
    occurred_at: str = Field(
        description="When the change wrote the event: ISO 8601 with offset, the same text in "
        "every sink.",
        examples=["2026-12-02T05:30:00+00:00"],
    )
    data: dict[str, Any] = Field(description="The payload; its fields are in docs/events.md.")


class EventPagePublic(BaseModel, json_schema_extra=example(samples.EVENT_PAGE)):
    events: list[EventEnvelopePublic]
    next_cursor: str | None = Field(
        description="Pass back as ``after`` for the next events; null before the first event."
    )


@router.get("/tenants/{tid}/events", responses=tenant_route_problems())
def list_events(
    ledger: LedgerDep,
    principal: Reader,
    event_type: Annotated[
        list[str],
        Query(
            alias="type",
            default_factory=list,
            description="Only events of these types (repeat the parameter for several); "
            "a type not in docs/events.md is a validation_error.",
            json_schema_extra={"items": {"type": "string", "enum": sorted(CATALOGUE)}},
        ),
    ],
    after: Annotated[
        str | None,
        Query(pattern=OPAQUE_CURSOR_PATTERN, description="The next_cursor of the last page."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=PAGE_SIZE_MAX, description="Events per page.")
    ] = PAGE_SIZE_DEFAULT,
) -> EventPagePublic:
    """The tenant's events in feed order, after the cursor ``after`` (from the first kept
    event without it). Events older than the retention that every sink has passed are
    pruned (``rewardledger events prune``)."""
    page = replay(ledger, principal.tenant_id, after=after, limit=limit, event_types=event_type)
    return EventPagePublic.model_validate({"events": page.events, "next_cursor": page.next_cursor})
