"""When the demo's contacts arrive and who is on duty to take them: the shapes real centres have.

Contacts arrive by channel with an intraday profile in local time (voice peaks mid-morning and is
gone by 21:00; chat runs into the evening), a weekly one (Monday heaviest, Saturday light, Sunday
little voice) and bank holidays low. ``ArrivalShape`` draws moments from those weights over the
demo's window, hour by hour (uniform within an hour), deterministic with the caller's generator.

``DemoRota`` says which of a team's ten demo agents are on shift at a moment (and not on a break),
so each contact goes to someone at work: shifts of eight hours starting from 07:30 to 14:00, five
days a week, some agents on weekends, with two breaks and lunch at fixed times from the shift's start (the
demo's shift templates). Engagement's demo presence finds these shifts again from the contacts.

Records cannot read engagement's calendar, so England's bank holidays of 2026–2027 are listed here
too (the same days as ``engagement/routing/demo.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate
from zoneinfo import ZoneInfo

from cea.common.channels import Channel

HOUR = dt.timedelta(hours=1)
# Relative arrivals per local hour 0–23.
VOICE_HOURS = (
    *(0.005,) * 6,
    *(0.02, 0.15, 0.7, 1.0, 1.0, 0.95, 0.8, 0.85, 0.9, 0.85, 0.75, 0.6, 0.45, 0.3, 0.08, 0.04, 0.02, 0.01),
)
CHAT_HOURS = (
    *(0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.08, 0.25, 0.5, 0.8, 0.9, 0.9),
    *(0.95, 0.9, 0.85, 0.8, 0.75, 0.75, 0.8, 0.85, 0.8, 0.6, 0.35, 0.15),
)
EMAIL_HOURS = (*(0.1,) * 6, 0.2, 0.4, 0.8, *(1.0,) * 8, 0.8, 0.6, 0.5, 0.5, 0.4, 0.3, 0.2)
# Relative arrivals per weekday, Monday first; and the share of a usual day's on a bank holiday.
VOICE_DAYS = (1.3, 1.1, 1.0, 1.0, 0.95, 0.45, 0.08)
CHAT_DAYS = (1.15, 1.05, 1.0, 1.0, 0.95, 0.7, 0.55)
EMAIL_DAYS = (1.3, 1.1, 1.0, 1.0, 0.9, 0.35, 0.3)
OTHER_DAYS = (1.1, 1.0, 1.0, 1.0, 1.0, 0.8, 0.7)
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...], float]] = {
    Channel.VOICE: (VOICE_HOURS, VOICE_DAYS, 0.1),
    Channel.CHAT: (CHAT_HOURS, CHAT_DAYS, 0.5),
    Channel.EMAIL: (EMAIL_HOURS, EMAIL_DAYS, 0.3),
    Channel.WEB_FORM: (EMAIL_HOURS, EMAIL_DAYS, 0.3),
}
OTHER_PROFILE = (CHAT_HOURS, OTHER_DAYS, 0.6)
# Busy and quiet spells: real arrivals are not a fixed profile with Poisson noise. A day runs above or below
# its weekday's shape (weather, a bill run, an outage), and so does an hour within it, and those spells
# last: each is an AR(1) in log space (persistence, spread), the day's from day to day, the hour's from
# hour to hour. This is what a forecasting model can learn and the historical average cannot, so the
# demo's backtest has something to find (docs/wfm.md, "Forecasting").
DAY_PERSISTENCE, DAY_SPREAD = 0.7, 0.1
HOUR_PERSISTENCE, HOUR_SPREAD = 0.85, 0.12
SPELLS_SEED = 15
# England's bank holidays of 2026 and 2027.
BANK_HOLIDAYS = frozenset(
    dt.date(*day)
    for day in (
        (2026, 1, 1),
        (2026, 4, 3),
        (2026, 4, 6),
        (2026, 5, 4),
        (2026, 5, 25),
        (2026, 8, 31),
        (2026, 12, 25),
        (2026, 12, 28),
        (2027, 1, 1),
        (2027, 3, 26),
        (2027, 3, 29),
        (2027, 5, 3),
        (2027, 5, 31),
        (2027, 8, 30),
        (2027, 12, 27),
        (2027, 12, 28),
    )
)


def _spells(hours: Sequence[dt.datetime]) -> list[float]:
    """The busy-or-quiet factor of each local hour: the day's spell times the hour's (see SPELLS_SEED)."""
    rng = random.Random(SPELLS_SEED)
    day_level: dict[dt.date, float] = {}
    previous_day, hour_level, factors = 0.0, 0.0, []
    for local in hours:
        if local.date() not in day_level:
            previous_day = DAY_PERSISTENCE * previous_day + rng.gauss(0, DAY_SPREAD)
            day_level[local.date()] = previous_day
        hour_level = HOUR_PERSISTENCE * hour_level + rng.gauss(0, HOUR_SPREAD)
        factors.append(math.exp(day_level[local.date()] + hour_level))
    return factors


class ArrivalShape:
    """Arrival weights per channel and UTC hour over ``[start, end)``; draws moments from them."""

    def __init__(
        self, *, start: dt.datetime, end: dt.datetime, zone: ZoneInfo, holidays: Iterable[dt.date] = BANK_HOLIDAYS
    ) -> None:
        self.origin = start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        self.end = end
        hours = int((end - self.origin) / HOUR) + 1
        self.local = [(self.origin + index * HOUR).astimezone(zone) for index in range(hours)]
        self.holidays = frozenset(holidays)
        self.cumulative: dict[str, list[float]] = {}
        self.spells = _spells(self.local)

    def weight(self, channel: str, local: dt.datetime) -> float:
        """The relative arrival rate of ``channel`` at the local moment ``local``."""
        hourly, daily, holiday = PROFILES.get(channel, OTHER_PROFILE)
        factor = holiday if local.date() in self.holidays else 1.0
        return hourly[local.hour] * daily[local.weekday()] * factor

    def _cumulative(self, channel: str) -> list[float]:
        if channel not in self.cumulative:
            spells = zip(self.local, self.spells, strict=True)
            weights = (self.weight(channel, local) * spell for local, spell in spells)
            self.cumulative[channel] = [0.0, *accumulate(weights)]
        return self.cumulative[channel]

    def _position(self, cumulative: list[float], moment: dt.datetime) -> float:
        """The cumulative weight up to ``moment`` (inside its hour, in proportion)."""
        offset = (moment.astimezone(dt.UTC) - self.origin) / HOUR
        index = min(max(int(offset), 0), len(cumulative) - 2)
        share = min(max(offset - index, 0.0), 1.0)
        return cumulative[index] + share * (cumulative[index + 1] - cumulative[index])

    def draw(self, rng: random.Random, channel: str, after: dt.datetime, before: dt.datetime) -> dt.datetime:
        """A moment in ``[after, before]`` drawn by ``channel``'s weights (uniform where they are all 0)."""
        cumulative = self._cumulative(channel)
        low, high = self._position(cumulative, after), self._position(cumulative, before)
        if high <= low:
            return after + (before - after) * rng.random()
        target = rng.uniform(low, high)
        index = min(bisect_right(cumulative, target) - 1, len(cumulative) - 2)
        width = cumulative[index + 1] - cumulative[index]
        share = (target - cumulative[index]) / width if width else rng.random()
        moment = self.origin + (index + share) * HOUR
        return min(max(moment, after), before)


# The demo's shifts: each agent's start (local), eight hours, breaks and lunch from the start.
SHIFT_STARTS = (
    dt.time(7, 30),
    dt.time(8),
    dt.time(8, 30),
    dt.time(9),
    dt.time(10),
    dt.time(12),
    dt.time(14),
    dt.time(9),
    dt.time(13),
    dt.time(8),
)
SHIFT_MINUTES = 480
SHIFT_BREAKS = ((120, 15), (240, 30), (360, 15))  # (minutes from the start, length): break, lunch, break


def days_off(position: int, day: dt.date) -> frozenset[int]:
    """The weekdays (0 Monday) the team's agent at ``position`` (0-based) is off in ``day``'s week:
    the first six Monday to Friday; two work Saturdays; two work weekends, off on rotating weekdays."""
    week = day.isocalendar().week
    if position < 6:
        return frozenset({5, 6})
    if position < 8:
        return frozenset({6, (position + week) % 5})
    return frozenset({(position + week) % 5, (position + week + 2) % 5})


def demo_shift(position: int, day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime] | None:
    """The shift of the agent at ``position`` on local ``day``: (start, end), or ``None`` on a day off."""
    if day.weekday() in days_off(position, day):
        return None
    start = dt.datetime.combine(day, SHIFT_STARTS[position % len(SHIFT_STARTS)], tzinfo=zone)
    return start, start + dt.timedelta(minutes=SHIFT_MINUTES)


class DemoRota:
    """Who of a team's agents is on shift, and not on a break, at a moment."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.cache: dict[tuple[dt.date, int], tuple[int, ...]] = {}
        self.shifts: dict[tuple[int, dt.date], tuple[dt.datetime, dt.datetime] | None] = {}

    def _working(self, local: dt.datetime) -> tuple[int, ...]:
        key = (local.date(), local.hour * 12 + local.minute // 5)
        if key not in self.cache:
            slot = local.replace(minute=local.minute // 5 * 5, second=0, microsecond=0)
            self.cache[key] = tuple(position for position in range(len(SHIFT_STARTS)) if self._at_work(position, slot))
        return self.cache[key]

    def _at_work(self, position: int, local: dt.datetime) -> bool:
        key = (position, local.date())
        if key not in self.shifts:
            self.shifts[key] = demo_shift(position, local.date(), self.zone)
        shift = self.shifts[key]
        if shift is None or not shift[0] <= local < shift[1]:
            return False
        minutes = (local - shift[0]).total_seconds() / 60
        return not any(after <= minutes < after + length for after, length in SHIFT_BREAKS)

    def pick(self, rng: random.Random, agents: Sequence, moment: dt.datetime):
        """One of ``agents`` (the team's, in order) at work at ``moment``; anyone if none is."""
        local = moment.astimezone(self.zone)
        working = [agents[position] for position in self._working(local) if position < len(agents)]
        return rng.choice(working or agents)
