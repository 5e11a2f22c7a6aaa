"""Pages of a list: the page-size check and the one cursor codec every paginated list uses.

Owns: what a client sends to page through a list (``limit``, ``cursor``) and what it gets back
(``next_cursor``). A cursor is opaque to clients: the base64url of a JSON array of the sort
key's parts (strings or integers) of the last row of the page. Only ``decode_cursor`` reads it,
and it refuses anything ``encode_cursor`` did not make, with a ``validation_error`` that says
what to send instead.

Every list reads one row more than its page holds (``page_of``): ``next_cursor`` is set only
when more rows follow, so the last page says so (null) instead of leading to an empty page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    BIGINT_MAX,
    CURSOR_LENGTH_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
)
from rewardledger.domain.validation import whole_number

CursorPart = str | int
Row = TypeVar("Row")


def page_limit(
    value: object, *, default: int = PAGE_SIZE_DEFAULT, maximum: int = PAGE_SIZE_MAX
) -> int:
    """``value`` as a page size: ``default`` when None, else a whole number 1..``maximum``."""
    if value is None:
        return default
    return whole_number(
        value, 1, maximum, f"limit must be a whole number from 1 to {maximum}.", "limit"
    )


def encode_cursor(*parts: CursorPart) -> str:
    """The cursor that continues after the row whose sort key is ``parts``."""
    raw = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> ValidationError:
    """The refusal of a cursor no page of this list gave."""
    return ValidationError(
        "cursor is not one this list gave; send the next_cursor of the previous page, "
        "or leave it out to start from the first page.",
        field="cursor",
    )


def decode_cursor(cursor: object, *kinds: type[str] | type[int]) -> tuple[CursorPart, ...]:
    """The sort key inside ``cursor``, checked against ``kinds`` (one type per part)."""
    invalid = invalid_cursor()
    if not isinstance(cursor, str) or not 1 <= len(cursor) <= CURSOR_LENGTH_MAX:
        raise invalid
    if not cursor.isascii():
        raise invalid
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise invalid from None
    if not isinstance(parts, list) or len(parts) != len(kinds):
        raise invalid
    for part, kind in zip(parts, kinds, strict=True):
        if type(part) is not kind:
            raise invalid
        # A sort key is a column value: an integer beyond BIGINT was never one this list gave.
        if isinstance(part, int) and not -BIGINT_MAX - 1 <= part <= BIGINT_MAX:
            raise invalid
    return tuple(parts)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def instant_part(moment: datetime) -> int:
    """A time as a cursor part: whole microseconds since the epoch (no parsing back)."""
    return (moment - _EPOCH) // _MICROSECOND


def instant_of_part(part: CursorPart) -> datetime:
    """The time an ``instant_part`` of a decoded cursor stands for."""
    assert isinstance(part, int)
    try:
        return _EPOCH + part * _MICROSECOND
    except OverflowError:
        raise invalid_cursor() from None


def page_of(
    rows: Sequence[Row], size: int, sort_key: Callable[[Row], Sequence[CursorPart]]
) -> tuple[list[Row], str | None]:
    """The page of ``rows``, read with one row more than ``size``: its first ``size`` rows,
    and the cursor after the last of them (``sort_key`` gives its parts) when more follow,
    else None."""
    if len(rows) <= size:
        return list(rows), None
    page = list(rows[:size])
    return page, encode_cursor(*sort_key(page[-1]))


def text_after(cursor: str | None) -> str | None:
    """The one text part (an id, a code) of a cursor; None for the first page."""
    return None if cursor is None else str(decode_cursor(cursor, str)[0])


def instant_and_id_after(cursor: str | None) -> tuple[datetime, str] | None:
    """The (time, id) of a cursor made of an ``instant_part`` and an id; None for the first
    page."""
    if cursor is None:
        return None
    micros, row_id = decode_cursor(cursor, int, str)
    return instant_of_part(micros), str(row_id)
