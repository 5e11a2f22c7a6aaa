"""Identifiers chosen by clients: tenants, assets, accounts and transfers.

Owns: the shape of every id. Ids appear in URL paths, so they use a URL-safe alphabet and
never contain "/". A transfer's id is also its idempotency key.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    DERIVED_ID_LENGTH_MAX,
    KIND_LENGTH_MAX,
    REASON_LENGTH_MAX,
    TENANT_ID_LENGTH_MAX,
    TRANSFER_ID_LENGTH_MAX,
)

_TENANT_ID = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{TENANT_ID_LENGTH_MAX - 1}}}")
_ACCOUNT_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:@-]{{0,{ACCOUNT_ID_LENGTH_MAX - 1}}}")
_TRANSFER_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:@-]{{0,{TRANSFER_ID_LENGTH_MAX - 1}}}")
# The id of any journal row: a client's, or one derived from it (<pending id>.post ...).
_JOURNAL_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:@-]{{0,{DERIVED_ID_LENGTH_MAX - 1}}}")
_ASSET_CODE = re.compile(rf"[A-Z][A-Z0-9_]{{0,{ASSET_CODE_LENGTH_MAX - 1}}}")
_KIND = re.compile(rf"[a-z][a-z0-9_]{{0,{KIND_LENGTH_MAX - 1}}}")
_REASON = re.compile(rf"[a-z0-9][a-z0-9_.:-]{{0,{REASON_LENGTH_MAX - 1}}}")

# What each id may contain, as the refusal message says it ("... it must be <shape>.").
_ID_CHARACTERS = "letters, digits or '.', '_', ':', '@', '-', starting with a letter or digit"
_TENANT_ID_SHAPE = (
    f"1 to {TENANT_ID_LENGTH_MAX} lowercase letters, digits, '_' or '-', "
    "starting with a letter or digit"
)
_ACCOUNT_ID_SHAPE = f"1 to {ACCOUNT_ID_LENGTH_MAX} {_ID_CHARACTERS}"
_TRANSFER_ID_SHAPE = f"1 to {TRANSFER_ID_LENGTH_MAX} {_ID_CHARACTERS}"
_JOURNAL_ID_SHAPE = f"1 to {DERIVED_ID_LENGTH_MAX} {_ID_CHARACTERS}"
_ASSET_CODE_SHAPE = (
    f"1 to {ASSET_CODE_LENGTH_MAX} uppercase letters, digits or '_', starting with a letter"
)
_KIND_SHAPE = f"1 to {KIND_LENGTH_MAX} lowercase letters, digits or '_'"
_REASON_SHAPE = f"1 to {REASON_LENGTH_MAX} lowercase letters, digits or '_', '.', ':', '-'"

# Account ids, asset codes, kinds and reasons recur across requests: remembering whether a
# string matched saves the regular expression on the hot path. Only strings no longer than
# any id may be (longer ones are invalid anyway) are looked up, so the cache stays small.
_CACHE_SIZE = 8192
_CACHED_LENGTH_MAX = max(ACCOUNT_ID_LENGTH_MAX, TENANT_ID_LENGTH_MAX, REASON_LENGTH_MAX)

TENANT_ID_PATTERN = _TENANT_ID.pattern
ACCOUNT_ID_PATTERN = _ACCOUNT_ID.pattern
TRANSFER_ID_PATTERN = _TRANSFER_ID.pattern
ASSET_CODE_PATTERN = _ASSET_CODE.pattern
KIND_PATTERN = _KIND.pattern
REASON_PATTERN = _REASON.pattern


def _check(
    pattern: re.Pattern[str], value: object, field: str, shape: str, *, cached: bool = True
) -> str:
    if (
        not isinstance(value, str)
        or len(value) > _CACHED_LENGTH_MAX
        or not (_matches(pattern, value) if cached else pattern.fullmatch(value))
    ):
        shown = value if not isinstance(value, str) or len(value) <= 200 else value[:200] + "..."
        raise ValidationError(f"{field} {shown!r} is not valid: it must be {shape}.", field=field)
    return value


@lru_cache(maxsize=_CACHE_SIZE)
def _matches(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None


def tenant_id(value: object, field: str = "tenant_id") -> str:
    return _check(_TENANT_ID, value, field, _TENANT_ID_SHAPE)


def account_id(value: object, field: str = "account_id") -> str:
    return _check(_ACCOUNT_ID, value, field, _ACCOUNT_ID_SHAPE)


def transfer_id(value: object, field: str = "id") -> str:
    # Unique per request: caching it would only push the recurring names out of the cache.
    return _check(_TRANSFER_ID, value, field, _TRANSFER_ID_SHAPE, cached=False)


def journal_id(value: object, field: str = "id") -> str:
    """The id of a journal row to look up: a client's id or a derived one."""
    return _check(_JOURNAL_ID, value, field, _JOURNAL_ID_SHAPE, cached=False)


def asset_code(value: object, field: str = "asset") -> str:
    return _check(_ASSET_CODE, value, field, _ASSET_CODE_SHAPE)


def kind(value: object, field: str = "kind") -> str:
    return _check(_KIND, value, field, _KIND_SHAPE)


def reason(value: object, field: str = "reason") -> str:
    return _check(_REASON, value, field, _REASON_SHAPE)
