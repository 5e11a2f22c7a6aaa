"""Field types of HTTP API v1's request schemas: ids, amounts, times, text, bounded numbers.

Owns: what each field's schema states (pattern, length, bounds) and the checks the schema
layer makes itself. Where the domain checks a value with a message naming the field (an id's
alphabet, a whole number's range), the schema states the rule (``json_schema_extra``) and
leaves the check to the domain, so that the OpenAPI document and the answers say the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import Field, PlainValidator, StrictStr, WithJsonSchema

from rewardledger.domain import ids
from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    AMOUNT_TEXT_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    CURSOR_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    NAME_LENGTH_MAX,
    TENANT_ID_LENGTH_MAX,
    TIME_TEXT_LENGTH_MAX,
    TIME_YEAR_MAX,
    TIME_YEAR_MIN,
    TRANSFER_ID_LENGTH_MAX,
)

# Path ids are checked against the id alphabet before any lookup, so that a byte a database
# cannot compare (NUL, on PostgreSQL) never reaches one. Transfer paths also name derived ids.
TENANT_ID_PATH_PATTERN = f"^(?:{ids.TENANT_ID_PATTERN})$"
ACCOUNT_ID_PATH_PATTERN = f"^(?:{ids.ACCOUNT_ID_PATTERN})$"
TRANSFER_ID_PATH_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:@-]{{0,{DERIVED_ID_LENGTH_MAX - 1}}}$"
# The account history's cursor is an entry's sequence number, at most BIGINT (checked again).
CURSOR_PATTERN = r"^[0-9]{1,19}$"
# Every other list's cursor is opaque (domain.paging): base64url text, checked when decoded.
OPAQUE_CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{1,{CURSOR_LENGTH_MAX}}}$"


def id_path(pattern: str, length_max: int, description: str, **extra: Any) -> Any:
    """A path parameter that names a thing by its id: its alphabet and length, which are
    checked before the id reaches a lookup, and what it names (``extra``: an alias, examples)."""
    return Path(max_length=length_max, pattern=pattern, description=description, **extra)


def id_query(pattern: str, length_max: int, description: str | None = None) -> Any:
    """A query parameter that filters a list by an id (or starts a page at one): the id's
    alphabet and length, checked before the id reaches a query, as for ``id_path``."""
    return Query(max_length=length_max, pattern=pattern, description=description)


# What every page answers beside its rows.
NEXT_CURSOR = "Pass as ``cursor`` for the next page; null on the last page."


# The years an instant may be in (TIME_YEAR_MIN..TIME_YEAR_MAX), as the schema states them.
TIME_YEARS_PATTERN = r"^(19[0-9]{2}|[2-8][0-9]{3}|9000)-"
assert (TIME_YEAR_MIN, TIME_YEAR_MAX) == (1900, 9000), "update TIME_YEARS_PATTERN"


def _decimal_string(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError('must be a decimal string such as "12.50", not true or false.')
    if isinstance(value, int | float):
        raise ValueError(
            'must be a decimal string such as "12.50", not a JSON number: put it in '
            "quotes, so that no digit is lost to floating point on the way."
        )
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "12.50".')
    if len(value) > AMOUNT_TEXT_LENGTH_MAX:
        raise ValueError(f"is longer than {AMOUNT_TEXT_LENGTH_MAX} characters.")
    if not value.isascii():
        raise ValueError('must be written with the ASCII digits 0-9, such as "12.50".')
    return value


def parse_time(value: object) -> datetime:
    """An ISO 8601 time with a UTC offset, such as 2025-10-31T23:59:00-05:00 (or ...Z)."""
    example = "such as 2025-10-31T23:59:00-05:00"
    if not isinstance(value, str) or len(value) > TIME_TEXT_LENGTH_MAX:
        raise ValueError(f"must be an ISO 8601 time string with a UTC offset, {example}.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time; send one {example}.") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; add one, {example} or ...Z for UTC.")
    if not TIME_YEAR_MIN <= parsed.year <= TIME_YEAR_MAX:
        raise ValueError(f"{value!r} is not between the years {TIME_YEAR_MIN} and {TIME_YEAR_MAX}.")
    return parsed


DecimalString = Annotated[
    str,
    PlainValidator(_decimal_string),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]+(\.[0-9]+)?$",
            "maxLength": AMOUNT_TEXT_LENGTH_MAX,
            "examples": ["12.50", "300"],
            "description": "A decimal string with at most the asset's number of decimals.",
        }
    ),
]
IsoTime = Annotated[
    datetime,
    PlainValidator(parse_time),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": TIME_YEARS_PATTERN,
            "maxLength": TIME_TEXT_LENGTH_MAX,
            "examples": ["2025-10-31T23:59:00-05:00"],
        }
    ),
]
# Metadata, names and time zones are checked by the domain (storable text, depth, size,
# known zones), which answers with a validation_error; the schema only takes their JSON shape.
Metadata = Annotated[
    dict[str, Any],
    Field(description="A JSON object of at most 4,096 bytes; no fractional numbers."),
]


def id_text(pattern: str, length_max: int) -> Any:
    """A client-chosen id: its length is checked here; its shape, stated in the schema as
    ``pattern``, is checked by the domain (whose message names the field and the alphabet)."""
    anchored = pattern if pattern.startswith("^") else f"^(?:{pattern})$"
    return Field(max_length=length_max, json_schema_extra={"pattern": anchored, "minLength": 1})


TransferId = Annotated[StrictStr, id_text(ids.TRANSFER_ID_PATTERN, TRANSFER_ID_LENGTH_MAX)]
AccountId = Annotated[StrictStr, id_text(ids.ACCOUNT_ID_PATTERN, ACCOUNT_ID_LENGTH_MAX)]
AssetCode = Annotated[StrictStr, id_text(ids.ASSET_CODE_PATTERN, ASSET_CODE_LENGTH_MAX)]
TenantId = Annotated[StrictStr, id_text(ids.TENANT_ID_PATTERN, TENANT_ID_LENGTH_MAX)]
# Text a person reads: not blank, and no NUL (which no database stores).
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
Name = Annotated[
    StrictStr,
    Field(max_length=NAME_LENGTH_MAX, json_schema_extra={"pattern": TEXT_PATTERN, "minLength": 1}),
]


# A whole number the domain bounds (with its own message); the schema states the bounds.
def bounded_int(minimum: int, maximum: int) -> Any:
    return Field(json_schema_extra={"minimum": minimum, "maximum": maximum})
