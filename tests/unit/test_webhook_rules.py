"""The pure rules of webhooks: the retry schedule (exponential, jittered, capped, bounded),
secrets in the Standard Webhooks format, and what an endpoint's url and types may be."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.webhooks import (
    WEBHOOK_ATTEMPTS_MAX,
    WEBHOOK_BACKOFF_BASE_SECONDS,
    WEBHOOK_BACKOFF_JITTER,
    WEBHOOK_BACKOFF_MAX_SECONDS,
    WEBHOOK_SECRET_BYTES,
    checked_description,
    checked_event_types,
    checked_url,
    new_secret,
    next_attempt_at,
    retry_wait_seconds,
)


def test_each_wait_doubles_within_its_jitter_and_stops_at_the_cap() -> None:
    draw = random.Random(7)
    for tries in range(1, 20):
        ceiling = min(WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** (tries - 1), WEBHOOK_BACKOFF_MAX_SECONDS)
        for _ in range(50):
            wait = retry_wait_seconds(tries, draw)
            assert ceiling * (1 - WEBHOOK_BACKOFF_JITTER) <= wait <= ceiling


def test_the_round_ends_after_the_attempts_limit() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_attempt_at(WEBHOOK_ATTEMPTS_MAX - 1, now) is not None
    assert next_attempt_at(WEBHOOK_ATTEMPTS_MAX, now) is None


def test_a_new_secret_is_whsec_base64_the_library_accepts() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == WEBHOOK_SECRET_BYTES
    assert new_secret() != secret
    Webhook(secret)  # the library's own parsing of the format


@pytest.mark.parametrize("url", ["https://example.com/h", "http://127.0.0.1:8080/x?a=1"])
def test_http_and_https_urls_with_a_host_are_accepted(url: str) -> None:
    assert checked_url(url) == url


@pytest.mark.parametrize(
    "url", ["ftp://h/x", "https://", "https://h:99999/", "https://h/\x00", "//h/x", "h/x"]
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        checked_url(url)


def test_event_types_are_dotted_names_or_a_lone_star() -> None:
    assert checked_event_types(["a.b", "a.b", "c"]) == ["a.b", "c"]
    assert checked_event_types(["*"]) == ["*"]
    for bad in ([], ["*", "a.b"], ["A.B"], ["a..b"]):
        with pytest.raises(ValidationError):
            checked_event_types(bad)
    with pytest.raises(ValidationError):
        checked_description("no\x00nul")
