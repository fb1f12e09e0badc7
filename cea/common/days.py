"""Local days: the deployment's calendar days (``settings.TIME_ZONE``) as instants.

A local day runs from local midnight to the next local midnight: 23 or 25 hours when the clocks
change. Bounds are returned in UTC, so that subtracting them, or stepping through them by a fixed
interval, counts real time (two datetimes that share one ``ZoneInfo`` subtract as wall-clock times).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from cea.common.errors import ValidationFailed

# The days a caller may ask for: wide enough for any plan or history, narrow enough that a week or a
# month either side of one is still a date (``date.max`` plus a day is an OverflowError, a 500).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
DAY_RANGE_MESSAGE = f"A date, YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}."


def local_today() -> dt.date:
    """Today in the deployment's time zone."""
    return dt.datetime.now(dt.UTC).astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in the deployment's time zone (aware, in that zone)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


def local_days_bounds(first: dt.date, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of ``days`` local days from ``first``, in UTC."""
    start = local_midnight(first).astimezone(dt.UTC)
    end = local_midnight(first + dt.timedelta(days=days)).astimezone(dt.UTC)
    return start, end


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of the local day ``day``, in UTC (23 or 25 hours apart on the days the clocks change)."""
    return local_days_bounds(day, 1)


def day_in_range(day: dt.date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def parse_day(raw: str, *, field: str) -> dt.date:
    """``raw`` (YYYY-MM-DD) as a date within ``FIRST_DAY``..``LAST_DAY``; else ``ValidationFailed`` on ``field``."""
    try:
        day = dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        day = None
    if day is None or not day_in_range(day):
        raise ValidationFailed(f"Choose a day ({field}).", fields={field: DAY_RANGE_MESSAGE})
    return day
