"""The window of a budget report, on the tenant's calendar.

Owns what "today", "week" (ISO), "month", "quarter" and "year" mean for a report, and the
explicit from/to dates (both included): a window is always [start, end) in the tenant's zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.validation import check_year

RANGES = ("today", "week", "month", "quarter", "year")


def report_window(
    range_name: str | None,
    date_from: str | None,
    date_to: str | None,
    now: datetime,
    zone: tzinfo,
) -> tuple[datetime, datetime]:
    """[start, end) of a report, on the tenant's calendar. ``date_from``/``date_to`` are
    dates (YYYY-MM-DD), both included; otherwise ``range_name`` (default month) is the
    current day, ISO week, month, quarter or year."""
    if date_from is not None or date_to is not None:
        if date_from is None or date_to is None:
            raise ValidationError("from and to go together; send both dates.", field="from")
        first, last = _date(date_from, "from"), _date(date_to, "to")
        if last < first:
            raise ValidationError("to is before from.", field="to")
        return _local_start(first, zone), _local_start(last + timedelta(days=1), zone)
    chosen = range_name or "month"
    if chosen not in RANGES:
        raise ValidationError(f"range must be one of {', '.join(RANGES)}.", field="range")
    today = now.astimezone(zone).date()
    if chosen == "today":
        start, end = today, today + timedelta(days=1)
    elif chosen == "week":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
    elif chosen == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    elif chosen == "quarter":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        end = (start + timedelta(days=95)).replace(day=1)
    else:
        start, end = date(today.year, 1, 1), date(today.year + 1, 1, 1)
    return _local_start(start, zone), _local_start(end, zone)


def entries_window(
    date_from: str | None, date_to: str | None, zone: tzinfo
) -> tuple[datetime | None, datetime | None]:
    """[start, end) of a ledger entries list: ``date_from`` and ``date_to`` are dates
    (YYYY-MM-DD) on the tenant's calendar, both included, each optional (open-ended)."""
    start = None if date_from is None else _local_start(_date(date_from, "from"), zone)
    end = None
    if date_to is not None:
        end = _local_start(_date(date_to, "to") + timedelta(days=1), zone)
    if start is not None and end is not None and end <= start:
        raise ValidationError("to is before from.", field="to")
    return start, end


def _date(text: object, field_name: str) -> date:
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field_name} must be a date such as 2026-03-31.", field=field_name
        ) from None
    # The day after, in the tenant's zone and in UTC, must still be a date datetime can hold.
    check_year(day.year, f"{field_name} must be a date", field_name)
    return day


def _local_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
