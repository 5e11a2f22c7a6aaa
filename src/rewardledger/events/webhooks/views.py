"""What webhooks hand out and pass to storage: endpoints, deliveries with their attempts, a
claimed delivery ready to send and the attempt made on it, the ranges of events and pages of
deliveries asked of storage, and the counts of a delivery pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rewardledger.domain.webhooks import DeliveryStatus
from rewardledger.events.views import FeedPosition


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A tenant's receiver. The secrets never leave but on create and rotate."""

    endpoint_id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    secret: str = field(repr=False)
    previous_secret: str | None = field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None
    secret_rotated_at: datetime | None = None

    @property
    def secret_made_at(self) -> datetime:
        """When the secret in use was made: its last rotation, else the endpoint's creation."""
        return self.secret_rotated_at or self.created_at

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets to sign with at ``now``: the current one, and the previous one while
        the rotation's overlap lasts (receivers still holding it keep verifying)."""
        if (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and now < self.previous_secret_expires_at
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class EndpointWithSecret:
    """An endpoint just created or rotated, with the secret shown this once."""

    endpoint: Endpoint
    secret: str


@dataclass(frozen=True, slots=True)
class EndpointPage:
    endpoints: Sequence[Endpoint]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP call made for a delivery: the status code or the error, and how long it took."""

    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int
    response_excerpt: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint: where it is, and its attempts (oldest first)."""

    endpoint_id: str
    event_id: str
    event_type: str
    subject_id: str
    status: DeliveryStatus
    tries: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: Sequence[Delivery]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to schedule: the event's place in the feed orders it within its subject."""

    endpoint_id: str
    event_id: str
    event_type: str
    subject_id: str
    txid: int
    position: int


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker holds under ``lease_token``, with what it needs to send it."""

    endpoint: Endpoint
    event_id: str
    event_type: str
    subject_id: str
    payload: Mapping[str, Any] | None
    occurred_at: datetime
    lease_token: str
    tries: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one HTTP call gave: a status code, or an error; the time it took."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int
    response_excerpt: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class MadeAttempt:
    """An attempt made on ``claimed``: what the call gave, and the ``status`` the delivery
    moves to with when it is due next (its attempt time once it is finished)."""

    claimed: ClaimedDelivery
    outcome: Outcome
    status: DeliveryStatus
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    """A page of ``endpoint_id``'s deliveries, latest event first: at most ``limit``, before
    ``before`` (if given), each with its latest ``attempts_limit`` attempts."""

    endpoint_id: str
    before: FeedPosition | None
    limit: int
    attempts_limit: int


@dataclass(frozen=True, slots=True)
class EventRange:
    """The outbox events after ``after`` (up to ``until``), written in [since, until_time)
    when those are given, in feed order: at most ``limit``."""

    after: FeedPosition
    until: FeedPosition | None
    since: datetime | None
    until_time: datetime | None
    limit: int


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """What one delivery pass did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "delivered": self.delivered,
            "retrying": self.retrying,
            "failed": self.failed,
            "released": self.released,
        }


@dataclass(frozen=True, slots=True)
class RedeliverReport:
    """How many deliveries a redelivery scheduled; ``next_cursor`` continues a range that
    was cut at its limit (None when the range is done)."""

    scheduled: int
    next_cursor: str | None
