"""Tenants and assets: who owns a ledger, and what it counts.

Owns: tenant time zones and the cycle tag of an instant. Protects: every cycle tag is
computed in the tenant's own time zone, never in the server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import ASSET_SCALE_MAX, NAME_LENGTH_MAX, TIMEZONE_NAME_LENGTH_MAX
from rewardledger.domain.text import check_storable
from rewardledger.domain.validation import whole_number


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    timezone: str
    created_at: datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def cycle_tag(self, instant: datetime) -> str:
        return cycle_tag(instant, self.zone)


@dataclass(frozen=True, slots=True)
class Asset:
    """A unit the ledger counts: a currency (USD, scale 2) or points (LUMIS, scale 0)."""

    tenant_id: str
    code: str
    scale: int
    name: str
    created_at: datetime


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_name(value: object) -> str:
    """Return ``value`` if it names an IANA time zone, else raise a ValidationError.

    Checked against the list of zones, not by loading one: a folder of the zone database
    ("America") would otherwise fail as a file that cannot be read.
    """
    if (
        not isinstance(value, str)
        or len(value) > TIMEZONE_NAME_LENGTH_MAX
        or value not in _timezones()
    ):
        shown = value[:TIMEZONE_NAME_LENGTH_MAX] if isinstance(value, str) else value
        raise ValidationError(
            f"timezone {shown!r} is not a known IANA time zone; use a name such as "
            "'UTC', 'Africa/Harare' or 'America/Panama'.",
            field="timezone",
        )
    return value


def display_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > NAME_LENGTH_MAX:
        raise ValidationError(
            f"{field} must be 1 to {NAME_LENGTH_MAX} characters of text.", field=field
        )
    return check_storable(value, field)


def asset_scale(value: object) -> int:
    return whole_number(
        value,
        0,
        ASSET_SCALE_MAX,
        f"scale must be a whole number from 0 to {ASSET_SCALE_MAX} (2 for cents, 0 for points).",
        "scale",
    )


def cycle_tag(instant: datetime, zone: ZoneInfo) -> str:
    """The calendar month ("YYYY-MM") that ``instant`` falls in, in ``zone``."""
    assert instant.tzinfo is not None, "cycle tags need an aware instant"
    local = instant.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"
