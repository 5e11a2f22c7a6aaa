"""Input that once crashed the checks or the database is refused with a validation_error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.money import Amount
from rewardledger.domain.tenants import display_name, timezone_name
from rewardledger.domain.transfers import TransferRequest, check_instant, check_metadata

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for _ in range(depth):
        document = {"a": document}
    return document


@pytest.mark.parametrize(
    "metadata",
    [
        nested(500),  # once a RecursionError
        {"note": "nul\x00inside"},  # PostgreSQL cannot store NUL
        {"nul\x00key": 1},
        {"lone": "\ud800"},  # not Unicode; stored garbled by SQLite
        {1: "integer key"},  # json.dumps would quietly make it "1"
        {"big": 10**5000},  # too long to print as JSON
        {"set": {1, 2}},
        {"list": [1, 2.5]},
    ],
)
def test_unstorable_metadata_is_refused(metadata: Any) -> None:
    with pytest.raises(ValidationError):
        check_metadata(metadata)


def test_metadata_within_the_limits_is_accepted() -> None:
    check_metadata({"order": {"lines": [1, 2, {"sku": "A-1", "gift": True}]}, "note": None})
    check_metadata(nested(31))


@pytest.mark.parametrize("name", ["nul\x00", "\udfff", "", "   ", "x" * 201])
def test_unstorable_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        display_name(name)


@pytest.mark.parametrize("zone", ["America", "Etc", "../etc/passwd", "Mars/Olympus", "x" * 65, 5])
def test_folders_and_unknown_names_are_not_time_zones(zone: object) -> None:
    with pytest.raises(ValidationError, match="IANA"):
        timezone_name(zone)


# Arabic-Indic and fullwidth digits, written as escapes: \d would have read them as 12.50.
@pytest.mark.parametrize(
    "text", ["\u0661\u0662.\u0665\u0660", "\uff11\uff12", "12.5\u0660", "1" * 29]
)
def test_amounts_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValidationError):
        Amount.parse(text, 2)


@pytest.mark.parametrize(
    "instant",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, tzinfo=timezone(timedelta(hours=-1))),
        datetime(1899, 12, 31, tzinfo=UTC),
        datetime(2026, 1, 1),  # noqa: DTZ001 - the point: no offset
    ],
)
def test_instants_far_from_now_or_without_an_offset_are_refused(instant: datetime) -> None:
    with pytest.raises(ValidationError):
        check_instant(instant, "at")
    with pytest.raises(ValidationError):
        TransferRequest("t", "a", "b", "USD", "1", effective_at=instant).validate(NOW)
