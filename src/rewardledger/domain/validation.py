"""Validation of times and metadata: the stateless bounds every request is checked against.

Owns: what an instant may be (aware, within ``TIME_YEAR_MIN``..``TIME_YEAR_MAX``), how far in the
future ``effective_at`` may lie, the range of a pending timeout (and of any whole number a
request bounds), and the shape and size of a metadata document. Protects the storable-input
invariant: nothing reaches the journal that the database or a JSON reader would refuse or
mangle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    EFFECTIVE_AT_FUTURE_SECONDS_MAX,
    METADATA_BYTES_MAX,
    METADATA_DEPTH_MAX,
    PENDING_TIMEOUT_SECONDS_MAX,
    TIME_TEXT_LENGTH_MAX,
    TIME_YEAR_MAX,
    TIME_YEAR_MIN,
)
from rewardledger.domain.text import check_storable


def whole_number(value: object, low: int, high: int, message: str, field: str) -> int:
    """``value`` if it is a whole number (an int, not a bool) from ``low`` to ``high``, else a
    ValidationError with ``message`` on ``field``."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(message, field=field)
    return value


def check_year(year: int, message_start: str, field: str) -> None:
    """Refuse a ``year`` outside ``TIME_YEAR_MIN``..``TIME_YEAR_MAX`` (the years in which a
    time converts to UTC or to a tenant's zone without overflowing) with the message
    ``message_start`` + " between the years ... and ..."."""
    if not TIME_YEAR_MIN <= year <= TIME_YEAR_MAX:
        raise ValidationError(
            f"{message_start} between the years {TIME_YEAR_MIN} and {TIME_YEAR_MAX}.",
            field=field,
        )


def check_timeout(value: object) -> int:
    """A pending timeout: a whole number of seconds from 1 to ``PENDING_TIMEOUT_SECONDS_MAX``."""
    return whole_number(
        value,
        1,
        PENDING_TIMEOUT_SECONDS_MAX,
        f"timeout_seconds must be a whole number from 1 to {PENDING_TIMEOUT_SECONDS_MAX}.",
        "timeout_seconds",
    )


def check_instant(value: object, field: str) -> datetime:
    """An aware datetime within the years the ledger accepts (see ``TIME_YEAR_MIN``)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(
            f"{field} must be a time with a UTC offset, such as 2025-10-31T23:59:00-05:00.",
            field=field,
        )
    check_year(value.year, f"{field} must fall", field)
    return value


def parse_instant(text: object, field: str) -> datetime:
    """An ISO 8601 time with a UTC offset, read from text for a Python caller.

    The same bounds as the HTTP schemas: at most ``TIME_TEXT_LENGTH_MAX`` characters (so that
    a huge string is refused before it is parsed), then ``check_instant``.
    """
    if not isinstance(text, str) or len(text) > TIME_TEXT_LENGTH_MAX:
        raise ValidationError(
            f"{field} must be an ISO 8601 time of at most {TIME_TEXT_LENGTH_MAX} characters, "
            "such as 2025-10-31T23:59:00-05:00.",
            field=field,
        )
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(
            f"{field} is not an ISO 8601 time; send one such as 2025-10-31T23:59:00-05:00.",
            field=field,
        ) from error
    return check_instant(parsed, field)


def check_effective_at(value: datetime | None, now: datetime) -> None:
    if value is None:
        return
    check_instant(value, "effective_at")
    if value - now > timedelta(seconds=EFFECTIVE_AT_FUTURE_SECONDS_MAX):
        raise ValidationError(
            "effective_at is in the future; a transfer can be back-dated but not post-dated. "
            "Send it when it takes effect.",
            field="effective_at",
        )


def _metadata_children(node: object) -> list[object]:
    """Check one value of a metadata document; return the values nested in it."""
    if isinstance(node, Mapping):
        for key in node:
            if not isinstance(key, str):
                raise ValidationError("metadata keys must be text.", field="metadata")
            check_storable(key, "metadata")
        return list(node.values())
    if isinstance(node, list | tuple):
        return list(node)
    if isinstance(node, str):
        check_storable(node, "metadata")
    elif isinstance(node, float):
        raise ValidationError(
            "metadata must not contain fractional numbers; store amounts as decimal strings.",
            field="metadata",
        )
    elif not (node is None or isinstance(node, int)):
        raise ValidationError(
            "metadata must contain only JSON values (text, whole numbers, true/false, null, "
            "lists and objects).",
            field="metadata",
        )
    return []


def check_metadata(value: Mapping[str, Any] | None) -> None:
    """A JSON object: text keys, no fractional numbers, storable text, bounded depth and size.

    Walked without recursion, so that deep nesting is refused rather than crashing the check.
    """
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ValidationError("metadata must be a JSON object.", field="metadata")
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > METADATA_DEPTH_MAX:
            raise ValidationError(
                f"metadata is nested more than {METADATA_DEPTH_MAX} levels deep; flatten it.",
                field="metadata",
            )
        pending.extend((child, depth + 1) for child in _metadata_children(node))
    try:
        encoded = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:  # e.g. an integer too long to print
        raise ValidationError(
            "metadata could not be encoded as JSON; keep to text, whole numbers, true/false, "
            "null, lists and objects.",
            field="metadata",
        ) from error
    if len(encoded.encode()) > METADATA_BYTES_MAX:
        raise ValidationError(
            f"metadata is larger than {METADATA_BYTES_MAX} bytes once encoded; keep large "
            "documents elsewhere and store their reference.",
            field="metadata",
        )
