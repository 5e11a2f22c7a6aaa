"""Webhook endpoints and their deliveries, as pure rules: what an endpoint's url and event
types may be, what a secret looks like, and when a failed delivery is tried again.

Owns: the named limits of webhooks (attempts, timeout, backoff, rotation overlap, excerpt
length, concurrency) and the retry schedule. Protects: a delivery is tried at most
``WEBHOOK_ATTEMPTS_MAX`` times per round, each wait exponential with jitter and capped, so a
receiver that is down is neither hammered nor given up on too soon. Standard library only.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from rewardledger.domain.errors import ValidationError

WEBHOOK_URL_LENGTH_MAX: Final = 2048
WEBHOOK_DESCRIPTION_LENGTH_MAX: Final = 500
WEBHOOK_EVENT_TYPES_MAX: Final = 64
WEBHOOK_EVENT_TYPE_LENGTH_MAX: Final = 64
WEBHOOK_ENDPOINT_ID_LENGTH_MAX: Final = 40
WEBHOOK_SECRET_LENGTH_MAX: Final = 80
WEBHOOK_SECRET_BYTES: Final = 24
WEBHOOK_ATTEMPTS_MAX: Final = 8
"""Attempts per round of a delivery (the first try included); then it is marked failed."""
WEBHOOK_TIMEOUT_SECONDS: Final = 10.0
"""How long one HTTP call may take, connecting included; a slower receiver is a failure."""
WEBHOOK_LEASE_SECONDS: Final = 3 * WEBHOOK_TIMEOUT_SECONDS
"""How long a claimed delivery stays in flight before another worker may take it over."""
WEBHOOK_BACKOFF_BASE_SECONDS: Final = 5.0
WEBHOOK_BACKOFF_MAX_SECONDS: Final = 3600.0
WEBHOOK_BACKOFF_JITTER: Final = 0.5
"""Each wait is drawn from [(1 - jitter) * w, w], so retries of many deliveries spread out."""
WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT: Final = 24 * 3600
WEBHOOK_ROTATION_OVERLAP_SECONDS_MAX: Final = 7 * 24 * 3600
WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX: Final = 500
WEBHOOK_ERROR_LENGTH_MAX: Final = 500
WEBHOOK_SEND_CONCURRENCY_MAX: Final = 8
"""Endpoints served at once in one delivery pass (one thread each)."""
WEBHOOK_DELIVERY_PASS_MAX: Final = 500
"""Deliveries one pass claims at most."""
WEBHOOK_REDELIVER_RANGE_MAX: Final = 1000
"""Events one redelivery of a range schedules at most (call again from ``next_cursor``)."""
WEBHOOK_ATTEMPTS_LISTED_MAX: Final = 50

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
ENDPOINT_ID_PATTERN: Final = r"^ep_[0-9a-f]{32}$"
EVENT_TYPE_PATTERN: Final = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
EVERY_TYPE: Final = "*"
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)


class DeliveryStatus(StrEnum):
    """Where a delivery is: ``pending`` (due at ``next_attempt_at``, first try or retry),
    ``in_flight`` (claimed by a worker under a lease), ``delivered`` (a 2xx came back) or
    ``failed`` (every attempt of its round failed; a redelivery starts a new round)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"


def new_endpoint_id() -> str:
    return f"ep_{secrets.token_hex(16)}"


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks format: ``whsec_`` + base64 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode()


def checked_url(url: str) -> str:
    """``url`` if it is an absolute http(s) url with a host, else ``validation_error``."""
    problem = ValidationError(
        "url must be an absolute http:// or https:// address with a host, at most "
        f"{WEBHOOK_URL_LENGTH_MAX} characters, such as https://example.com/hooks.",
        field="url",
    )
    if not isinstance(url, str) or not 1 <= len(url) <= WEBHOOK_URL_LENGTH_MAX:
        raise problem
    if not url.isascii() or any(ord(character) <= ord(" ") for character in url):
        raise problem
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsing the port is the check: a bad one raises)
    except ValueError:
        raise problem from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise problem
    return url


def checked_event_types(event_types: Sequence[str]) -> list[str]:
    """The subscription, de-duplicated in order: event types, or ``["*"]`` for every type."""
    chosen = list(dict.fromkeys(event_types))
    if not 1 <= len(chosen) <= WEBHOOK_EVENT_TYPES_MAX:
        raise ValidationError(
            f"event_types must list from 1 to {WEBHOOK_EVENT_TYPES_MAX} event types, "
            'or be ["*"] for every type.',
            field="event_types",
        )
    if EVERY_TYPE in chosen and len(chosen) > 1:
        raise ValidationError('"*" already means every type; send it alone.', field="event_types")
    for event_type in chosen:
        if event_type == EVERY_TYPE:
            continue
        if len(event_type) > WEBHOOK_EVENT_TYPE_LENGTH_MAX or not _EVENT_TYPE.match(event_type):
            raise ValidationError(
                f"{event_type!r} is not an event type: use dotted lower-case names such as "
                "transfer.posted (docs/events.md lists them).",
                field="event_types",
            )
    return chosen


def checked_description(description: str) -> str:
    if len(description) > WEBHOOK_DESCRIPTION_LENGTH_MAX or "\x00" in description:
        raise ValidationError(
            f"description is text of at most {WEBHOOK_DESCRIPTION_LENGTH_MAX} characters "
            "(no NUL character).",
            field="description",
        )
    return description


def checked_overlap_seconds(overlap_seconds: int) -> int:
    if not 0 <= overlap_seconds <= WEBHOOK_ROTATION_OVERLAP_SECONDS_MAX:
        raise ValidationError(
            f"overlap_seconds must be from 0 to {WEBHOOK_ROTATION_OVERLAP_SECONDS_MAX}.",
            field="overlap_seconds",
        )
    return overlap_seconds


def subscribed(event_types: Sequence[str], event_type: str) -> bool:
    return EVERY_TYPE in event_types or event_type in event_types


def retry_wait_seconds(tries: int, draw: random.Random | None = None) -> float:
    """The wait before the next try, after ``tries`` failed tries of this round (1 or more):
    ``base * 2 ** (tries - 1)``, capped at the maximum, less up to the jitter share."""
    assert tries >= 1
    ceiling = min(WEBHOOK_BACKOFF_BASE_SECONDS * 2.0 ** (tries - 1), WEBHOOK_BACKOFF_MAX_SECONDS)
    chance: float = (draw or random).random()
    return float(ceiling * (1 - WEBHOOK_BACKOFF_JITTER * chance))


def next_attempt_at(tries: int, now: datetime) -> datetime | None:
    """When to try again after ``tries`` failed tries, or None: the round is over (failed)."""
    if tries >= WEBHOOK_ATTEMPTS_MAX:
        return None
    return now + timedelta(seconds=retry_wait_seconds(tries))
