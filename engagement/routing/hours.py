"""Business hours as values: weekly opening ranges, dated closures, a time zone; their checks and open spans.

The rules (docs/kpis.md, "Business hours only", says what reports make of them):

- A weekday may have several ranges; a range opens and closes on the same local day. A range that
  closes at 00:00 closes at midnight at the end of its day, so 00:00–00:00 is the whole day; a
  night shift is two ranges (22:00–00:00 on Monday, 00:00–06:00 on Tuesday). Ranges of one day must
  not overlap; ranges that touch (09:00–12:00, 12:00–17:00) are one open span.
- A closure closes whole local days, from its first to its last day (both included), whatever the
  weekly ranges say: a bank holiday, a Christmas shutdown.
- Times are wall-clock times in the schedule's time zone: 08:00–20:00 is 08:00–20:00 local on
  either side of a daylight-saving change. A time that does not exist on the day the clocks go
  forward (02:30 in Europe/London) is read with the offset before the change (``fold=0``), as
  ``zoneinfo`` does; one that happens twice when they go back is its first occurrence.

Nothing here touches the database: services validate with ``hours_problems`` before they save,
selectors turn a saved schedule into ``open_spans``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIDNIGHT = dt.time(0, 0)
DAY_MINUTES = 24 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_RANGES = 7 * 24
MAX_CLOSURES = 500


@dataclass(frozen=True)
class WeeklyRange:
    """Open from ``opens`` to ``closes`` (local) every ``weekday`` (0 Monday … 6 Sunday); 00:00 closes at midnight."""

    weekday: int
    opens: dt.time
    closes: dt.time

    @property
    def minutes(self) -> tuple[int, int]:
        """Opening and closing minute of the day (closing at midnight is minute 1440)."""
        opens = self.opens.hour * 60 + self.opens.minute
        closes = self.closes.hour * 60 + self.closes.minute
        return opens, closes or DAY_MINUTES

    def __str__(self) -> str:
        closes = "24:00" if self.closes == MIDNIGHT else f"{self.closes:%H:%M}"
        return f"{WEEKDAYS[self.weekday]} {self.opens:%H:%M}–{closes}"


@dataclass(frozen=True)
class ClosedDays:
    """Closed all day from ``first_day`` to ``last_day``, both included (local days)."""

    name: str
    first_day: dt.date
    last_day: dt.date


class OpenSpan(NamedTuple):
    """An open span in UTC: from ``start`` (included) to ``end`` (excluded)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class HoursSpec:
    time_zone: str
    ranges: tuple[WeeklyRange, ...]
    closures: tuple[ClosedDays, ...]


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone, or None when it is one."""
    if not name:
        return "Give a time zone (an IANA name such as Europe/London)."
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {name!r}: give an IANA name such as Europe/London."
    return None


def _second_or_finer(value: dt.time) -> bool:
    return bool(value.second or value.microsecond)


def range_problems(ranges: Sequence[WeeklyRange]) -> list[str]:
    """What is wrong with a schedule's weekly ranges, one sentence each (empty when nothing is)."""
    problems: list[str] = []
    if len(ranges) > MAX_RANGES:
        return [f"A schedule has at most {MAX_RANGES} weekly ranges."]
    for weekly in ranges:
        if not 0 <= weekly.weekday <= 6:
            problems.append(f"Weekday {weekly.weekday} is not 0 (Monday) to 6 (Sunday).")
            continue
        if _second_or_finer(weekly.opens) or _second_or_finer(weekly.closes):
            problems.append(f"{weekly}: give whole minutes.")
        opens, closes = weekly.minutes
        if closes <= opens:
            problems.append(
                f"{WEEKDAYS[weekly.weekday]} {weekly.opens:%H:%M}–{weekly.closes:%H:%M}: a range must close after it"
                " opens on the same day (00:00 closes at midnight; split a night shift over two days)."
            )
    for weekday, name in enumerate(WEEKDAYS):
        day = sorted((r for r in ranges if r.weekday == weekday and r.minutes[0] < r.minutes[1]), key=_by_minutes)
        for before, after in itertools.pairwise(day):
            if after.minutes[0] < before.minutes[1]:
                problems.append(f"{name}: {before} overlaps {after}.")
    return problems


def _by_minutes(weekly: WeeklyRange) -> tuple[int, int]:
    return weekly.minutes


def closure_problems(closures: Sequence[ClosedDays]) -> list[str]:
    problems: list[str] = []
    if len(closures) > MAX_CLOSURES:
        return [f"A schedule has at most {MAX_CLOSURES} closures."]
    for closure in closures:
        if not closure.name.strip():
            problems.append(f"The closure from {closure.first_day} needs a name (e.g. Christmas Day).")
        if closure.last_day < closure.first_day:
            problems.append(f"{closure.name or 'A closure'}: the last day {closure.last_day} is before the first.")
    return problems


def hours_problems(spec: HoursSpec) -> dict[str, list[str]]:
    """What is wrong with a schedule, by field (``time_zone``, ``ranges``, ``closures``); empty when nothing is."""
    found = {
        "time_zone": [problem] if (problem := zone_problem(spec.time_zone)) else [],
        "ranges": range_problems(spec.ranges),
        "closures": closure_problems(spec.closures),
    }
    return {field: problems for field, problems in found.items() if problems}


def _local(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    midnight = dt.datetime.combine(day, MIDNIGHT, tzinfo=zone)
    if minute == DAY_MINUTES:
        return dt.datetime.combine(day + dt.timedelta(days=1), MIDNIGHT, tzinfo=zone)
    return midnight.replace(hour=minute // 60, minute=minute % 60)


def _closed(day: dt.date, closures: Iterable[ClosedDays]) -> bool:
    return any(closure.first_day <= day <= closure.last_day for closure in closures)


def merge_spans(spans: list[OpenSpan]) -> list[OpenSpan]:
    """``spans`` in order, overlapping or touching ones joined."""
    merged: list[OpenSpan] = []
    for span in sorted(spans):
        if merged and span.start <= merged[-1].end:
            merged[-1] = OpenSpan(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def open_spans(spec: HoursSpec, *, start: dt.datetime, end: dt.datetime) -> list[OpenSpan]:
    """The open spans of ``spec`` between ``start`` and ``end`` (aware), clipped to them, merged, in UTC."""
    zone = ZoneInfo(spec.time_zone)
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date()
    by_weekday: dict[int, list[WeeklyRange]] = {}
    for weekly in spec.ranges:
        by_weekday.setdefault(weekly.weekday, []).append(weekly)
    spans: list[OpenSpan] = []
    day = first
    while day <= last:
        if not _closed(day, spec.closures):
            for weekly in by_weekday.get(day.weekday(), []):
                opens, closes = weekly.minutes
                span_start = max(_local(day, opens, zone).astimezone(dt.UTC), start)
                span_end = min(_local(day, closes, zone).astimezone(dt.UTC), end)
                if span_start < span_end:
                    spans.append(OpenSpan(span_start, span_end))
        day += dt.timedelta(days=1)
    return merge_spans(spans)
