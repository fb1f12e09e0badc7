"""Each agent's state timeline per local day: time logged in, available, busy, after-contact work and
away (by reason), cut from their presence periods (``engagement.routing.selectors.presence_timeline``).

A period that spans midnight counts in each day for its part; days are local wall-clock days (a DST
day has 23 or 25 hours). Offline is not logged in; every other state is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from engagement.routing.models import PresenceChange

NO_REASON = gettext_lazy("No reason given")


@dataclass(frozen=True)
class Segment:
    """One period of one day, as a share of the day (for the timeline bar)."""

    presence: str
    label: str
    offset: float
    width: float
    start: dt.datetime
    end: dt.datetime

    @property
    def title(self) -> str:
        """The bar's tooltip: "Away: Lunch 12:00–12:40" (local times), made here rather than by template
        filters: a month of a team's days has thousands of segments."""
        zone = ZoneInfo(settings.TIME_ZONE)
        return f"{self.label} {self.start.astimezone(zone):%H:%M}–{self.end.astimezone(zone):%H:%M}"


@dataclass
class AgentDay:
    user_id: int
    day: dt.date
    logged_in: float = 0
    available: float = 0
    busy: float = 0
    after_contact: float = 0
    away: dict[str, float] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)

    @property
    def away_total(self) -> float:
        return sum(self.away.values())


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


def agent_days(*, spans: Iterable[PresenceChange], first_day: dt.date, last_day: dt.date) -> list[AgentDay]:
    """The days from ``first_day`` to ``last_day`` (included) of each agent with a presence period in them,
    by agent then day. ``spans`` carry ``user_id`` and ``until`` (``presence_timeline``)."""
    days: dict[tuple[int, dt.date], AgentDay] = {}
    for span in spans:
        user_id: int = span.user_id  # type: ignore[attr-defined]  # annotated by presence_timeline
        until: dt.datetime = span.until  # type: ignore[attr-defined]
        day = max(first_day, span.started_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date())
        while day <= last_day:
            day_start, day_end = _midnight(day), _midnight(day + dt.timedelta(days=1))
            if day_start >= until:
                break
            begin, finish = max(span.started_at, day_start), min(until, day_end)
            if finish > begin:
                seconds = (finish - begin).total_seconds()
                record = days.setdefault((user_id, day), AgentDay(user_id=user_id, day=day))
                _add(record, span, seconds)
                length = (day_end - day_start).total_seconds()
                record.segments.append(
                    Segment(
                        presence=span.presence,
                        label=_label(span),
                        offset=round((begin - day_start).total_seconds() * 100 / length, 3),
                        width=round(seconds * 100 / length, 3),
                        start=begin,
                        end=finish,
                    )
                )
            day += dt.timedelta(days=1)
    return [days[key] for key in sorted(days)]


def _label(span: PresenceChange) -> str:
    if span.presence == "away":
        return gettext("Away: %(reason)s") % {"reason": span.reason.label if span.reason else NO_REASON}
    return span.get_presence_display()


def _add(record: AgentDay, span: PresenceChange, seconds: float) -> None:
    if span.presence == "offline":
        return
    record.logged_in += seconds
    if span.presence == "available":
        record.available += seconds
    elif span.presence == "busy":
        record.busy += seconds
    elif span.presence == "after_contact":
        record.after_contact += seconds
    elif span.presence == "away":
        reason = span.reason.label if span.reason else str(NO_REASON)
        record.away[reason] = record.away.get(reason, 0) + seconds


def hours(seconds: float) -> str:
    """Seconds as hours and minutes: 5400 → "1 h 30 min"."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
