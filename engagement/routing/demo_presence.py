"""The demo's presence history: each demo agent's presence changes over the days of their demo contacts.

The demo's interactions (``records.demo``) have agents but no presence, so occupancy, utilisation
and the agents' state timelines would be empty. This lays out, for each agent who handled demo
contacts and has no presence recorded yet, plausible days. Each day the agent has contacts after
06:30 they had a planned shift (``planned_demo_shifts``): eight hours from the half hour of their
first contact (07:00 to 14:00), with a break two hours in, lunch at four and a break at six (the
demo rota of ``records.demo`` keeps contacts away from those). Workforce management writes those as
published schedules (``engagement.wfm.demo``). The presence keeps to the plan, not exactly: late
logins now and then, early leavers, long lunches, breaks a little off; now and then training, a
meeting or coaching and a spell of busy (no new work); after-contact work after each contact,
available in between, offline outside.
A contact outside the shift gets a short login around it, so no contact is handled while offline.
Away periods are placed where the agent has no contact. Deterministic: the same seed and contacts
give the same rows. Rows are written with one COPY in one transaction (the demo is data,
not live presence: no pushes, no routing); each agent's last change is offline, open-ended.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from cea.common.copy import copy_in
from engagement.routing.defaults import routing_defaults_ensure
from engagement.routing.models import AgentProfile, Presence, PresenceChange, ReasonCode
from records.interactions.selectors import interactions_handled_around

MINUTE = dt.timedelta(minutes=1)
# The planned shift: its length, and its breaks (reason, minutes from the start, length in minutes).
SHIFT_MINUTES = 480
PLANNED_BREAKS = (("break", 120, 15), ("lunch", 240, 30), ("break", 360, 15))
EARLIEST_START, LATEST_START = dt.time(7), dt.time(14)
DAY_BEGINS = dt.time(6, 30)  # contacts before this are the night's, not a shift's
EXTRA_AWAY = ("training", "meeting", "coaching")


@dataclass(frozen=True)
class PlannedShift:
    """A demo agent's planned shift: its start and end, and its breaks ``(reason, start, end)``."""

    start: dt.datetime
    end: dt.datetime
    breaks: tuple[tuple[str, dt.datetime, dt.datetime], ...]


@dataclass(frozen=True)
class Span:
    presence: str
    start: dt.datetime
    end: dt.datetime | None
    reason: str = ""
    cause: str = "agent"


@dataclass(frozen=True)
class Contact:
    answered_at: dt.datetime
    ended_at: dt.datetime


class _Busy:
    """The agent's contacts (answer to wrap-up) and the away periods placed so far: does a period overlap one?"""

    def __init__(self, spans: list[tuple[dt.datetime, dt.datetime]]) -> None:
        self.starts = [start for start, _ in spans]  # sorted by start
        self.reach: list[dt.datetime] = []  # the latest end among the spans up to each one
        for _, end in spans:
            self.reach.append(max(end, self.reach[-1]) if self.reach else end)
        self.placed: list[tuple[dt.datetime, dt.datetime]] = []

    def free(self, start: dt.datetime, end: dt.datetime) -> bool:
        before = bisect_left(self.starts, end)  # the spans that start before ``end``
        if before and self.reach[before - 1] > start:
            return False
        return not any(start < other_end and other_start < end for other_start, other_end in self.placed)


def _windows(shifts: list[tuple[dt.datetime, dt.datetime]], contacts: list[Contact], rng: random.Random) -> list:
    """Logged-in periods: the shifts, and a short login around each contact outside them, merged."""
    periods = list(shifts)
    starts = [start for start, _ in shifts]
    for contact in contacts:
        index = bisect_right(starts, contact.answered_at) - 1
        if index < 0 or contact.ended_at + 2 * MINUTE > shifts[index][1]:
            periods.append(
                (contact.answered_at - rng.uniform(2, 8) * MINUTE, contact.ended_at + rng.uniform(3, 8) * MINUTE)
            )
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def planned_shift(day: dt.date, first_contact: dt.datetime, zone: ZoneInfo) -> PlannedShift:
    """The shift planned on local ``day`` for an agent whose first contact of the day came at ``first_contact``:
    from its half hour (between 07:00 and 14:00), eight hours, with the planned breaks."""
    local = first_contact.astimezone(zone)
    start_time = min(max(dt.time(local.hour, 30 if local.minute >= 30 else 0), EARLIEST_START), LATEST_START)
    start = dt.datetime.combine(day, start_time, tzinfo=zone)
    breaks = tuple(
        (reason, start + after * MINUTE, start + (after + length) * MINUTE) for reason, after, length in PLANNED_BREAKS
    )
    return PlannedShift(start, start + SHIFT_MINUTES * MINUTE, breaks)


def agent_planned_shifts(
    *, contacts: list[Contact], first_day: dt.date, last_day: dt.date, zone: ZoneInfo
) -> list[PlannedShift]:
    """An agent's planned shifts from ``first_day`` to ``last_day``: one each local day they had a
    contact after 06:30 (none otherwise: a day off)."""
    first_contacts: dict[dt.date, dt.datetime] = {}
    for contact in sorted(contacts, key=lambda contact: contact.answered_at):
        local = contact.answered_at.astimezone(zone)
        if first_day <= local.date() <= last_day and local.time() >= DAY_BEGINS:
            first_contacts.setdefault(local.date(), contact.answered_at)
    return [planned_shift(day, first, zone) for day, first in sorted(first_contacts.items())]


def _actual(shift: PlannedShift, rng: random.Random) -> tuple[dt.datetime, dt.datetime]:
    """When the agent really logged in and out: mostly on time, now and then late or leaving early."""
    late = rng.uniform(5, 20) if rng.random() < 0.15 else rng.uniform(-5, 2)
    early = rng.uniform(15, 30) if rng.random() < 0.08 else rng.uniform(-8, 5)
    return shift.start + late * MINUTE, shift.end - early * MINUTE


def _away(shift: PlannedShift, actual: tuple[dt.datetime, dt.datetime], rng: random.Random, busy: _Busy) -> list[Span]:
    """Breaks and lunch about when planned (lunches now and then long), sometimes training, a meeting
    or coaching, and busy, where the agent has no contact."""
    start, end = actual
    planned = [
        (
            reason,
            begin + rng.uniform(-5, 10) * MINUTE,
            (finish - begin)
            + (rng.uniform(5, 20) if reason == "lunch" and rng.random() < 0.3 else rng.uniform(0, 4)) * MINUTE,
        )
        for reason, begin, finish in shift.breaks
    ]
    if rng.random() < 0.15:
        planned.append((rng.choice(EXTRA_AWAY), start + rng.uniform(60, 420) * MINUTE, rng.uniform(30, 60) * MINUTE))
    if rng.random() < 0.3:
        planned.append(("", start + rng.uniform(30, 450) * MINUTE, rng.uniform(5, 20) * MINUTE))
    spans = []
    for reason, begin, length in planned:
        finish = begin + length
        if start < begin and finish < end and busy.free(begin, finish):
            busy.placed.append((begin, finish))
            spans.append(Span(Presence.AWAY if reason else Presence.BUSY, begin, finish, reason=reason))
    return spans


def _after_contact(contacts: list[Contact], rng: random.Random) -> tuple[list[Span], list]:
    """After-contact work after each contact, 15 s to 1½ min (none where it would overlap another contact),
    and each contact's span from its answer to its wrap-up."""
    wrap_ups = [contact.ended_at + dt.timedelta(seconds=rng.uniform(15, 90)) for contact in contacts]
    spans, reach = [], None
    for index, (contact, wrap_up) in enumerate(zip(contacts, wrap_ups, strict=True)):
        following = contacts[index + 1].answered_at if index + 1 < len(contacts) else None
        alone = (reach is None or reach <= contact.answered_at) and (following is None or following >= wrap_up)
        if alone:
            spans.append(Span(Presence.AFTER_CONTACT, contact.ended_at, wrap_up))
        reach = wrap_up if reach is None else max(reach, wrap_up)
    return spans, [(contact.answered_at, wrap_up) for contact, wrap_up in zip(contacts, wrap_ups, strict=True)]


def agent_presence_spans(
    *, contacts: list[Contact], first_day: dt.date, last_day: dt.date, now: dt.datetime, rng: random.Random
) -> list[Span]:
    """One agent's presence from ``first_day`` to ``last_day`` (local days), oldest first, contiguous
    from their first login; nothing after ``now``, and the last period offline with no end."""
    zone = ZoneInfo(settings.TIME_ZONE)
    contacts = sorted(contacts, key=lambda contact: contact.answered_at)
    plans = agent_planned_shifts(contacts=contacts, first_day=first_day, last_day=last_day, zone=zone)
    overlays, handling = _after_contact(contacts, rng)
    busy = _Busy(handling)
    shifts = []
    for plan in plans:
        actual = _actual(plan, rng)
        shifts.append(actual)
        overlays.extend(_away(plan, actual, rng, busy))
    return _timeline(_windows(shifts, contacts, rng), sorted(overlays, key=lambda span: span.start), now)


def _timeline(windows: list, overlays: list[Span], now: dt.datetime) -> list[Span]:
    """Available through each logged-in window but for the overlays inside it, offline between windows."""
    spans: list[Span] = []
    pending = iter(overlays)
    overlay = next(pending, None)
    for start, end in windows:
        cursor = start
        while overlay is not None and overlay.start < end:
            if overlay.start >= cursor and overlay.end is not None and overlay.end <= end:
                if overlay.start > cursor:
                    cause = "timer" if spans and spans[-1].presence == Presence.AFTER_CONTACT else "agent"
                    spans.append(Span(Presence.AVAILABLE, cursor, overlay.start, cause=cause))
                spans.append(overlay)
                cursor = overlay.end
            overlay = next(pending, None)
        if end > cursor:
            spans.append(Span(Presence.AVAILABLE, cursor, end))
        spans.append(Span(Presence.OFFLINE, end, None))
    return _until_now(spans, now)


def _until_now(spans: list[Span], now: dt.datetime) -> list[Span]:
    """The spans before ``now``, each ended where the next starts, the last one offline and open."""
    kept = [span for span in spans if span.start < now]
    closed = [
        Span(span.presence, span.start, min(following.start, now), span.reason, span.cause)
        for span, following in pairwise(kept)
    ]
    if kept:
        last = kept[-1]
        if last.presence == Presence.OFFLINE:
            closed.append(Span(Presence.OFFLINE, last.start, None, cause=last.cause))
        else:
            closed.append(Span(last.presence, last.start, now, last.reason, last.cause))
            closed.append(Span(Presence.OFFLINE, now, None))
    return closed


def _contacts_by_agent(*, start: dt.datetime, end: dt.datetime) -> dict[int, list[Contact]]:
    handled = interactions_handled_around(start=start, end=end).values_list("agent_id", "answered_at", "ended_at")
    contacts: dict[int, list[Contact]] = defaultdict(list)
    for agent_id, answered_at, ended_at in handled.order_by("agent_id", "answered_at", "id"):
        if agent_id is not None and answered_at is not None:  # the selector's filter: never None
            contacts[agent_id].append(Contact(answered_at, ended_at))
    return contacts


def _copy_lines(profile_id: int, spans: Iterable[Span], reasons: dict[str, int]) -> Iterable[str]:
    """The spans as COPY text lines of ``PresenceChange`` (our own words and times: nothing to escape)."""
    for span in spans:
        reason = str(reasons[span.reason]) if span.reason else "\\N"
        ended = span.end.isoformat() if span.end else "\\N"
        yield f"{profile_id}\t{span.presence}\t{reason}\t{span.start.isoformat()}\t{ended}\t{span.cause}\n"


def _copy(lines: list[str]) -> None:
    """Write the rows with one COPY: ten times faster than ``bulk_create`` for the demo's ~90,000 rows."""
    table = PresenceChange._meta.db_table
    fields = {field.name: field.column for field in PresenceChange._meta.concrete_fields}
    names = ("agent", "presence", "reason", "started_at", "ended_at", "cause")
    columns = ", ".join(connection.ops.quote_name(fields[name]) for name in names)
    copy_in(f"COPY {table} ({columns}) FROM STDIN", "".join(lines))


def planned_demo_shifts(*, days: int = 90, now: dt.datetime | None = None) -> dict[int, list[PlannedShift]]:
    """The planned shifts the demo's presence is laid out from, by user id: of every agent who handled
    a contact in the last ``days`` days, their days from then to today (``agent_planned_shifts``)."""
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    start = now - dt.timedelta(days=days)
    last_day = now.astimezone(zone).date()
    return {
        user_id: agent_planned_shifts(
            contacts=own, first_day=min(start, own[0].answered_at).astimezone(zone).date(), last_day=last_day, zone=zone
        )
        for user_id, own in _contacts_by_agent(start=start, end=now).items()
    }


@transaction.atomic
def presence_demo_load(*, seed: int, days: int = 90, now: dt.datetime | None = None) -> dict[str, int]:
    """Write the presence history of every agent who handled a contact in the last ``days`` days and has
    no presence recorded (idempotent: a second run writes nothing). Returns the agents and rows written."""
    routing_defaults_ensure()
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    start = now - dt.timedelta(days=days)
    contacts = _contacts_by_agent(start=start, end=now)
    recorded = set(PresenceChange.objects.values_list("agent__user_id", flat=True).distinct())
    reasons = dict(ReasonCode.objects.values_list("code", "pk"))
    lines: list[str] = []
    agents = 0
    usernames = dict(get_user_model().objects.filter(pk__in=sorted(contacts)).values_list("pk", "username"))
    for user_id in sorted(set(contacts) - recorded):
        # One generator per agent, from the seed and the username: an agent's days depend neither on the
        # other agents nor on the database's ids.
        rng = random.Random(f"{seed}:{usernames[user_id]}")
        own = contacts[user_id]
        first_day = min(start, own[0].answered_at).astimezone(zone).date()
        spans = agent_presence_spans(
            contacts=own, first_day=first_day, last_day=now.astimezone(zone).date(), now=now, rng=rng
        )
        profile, _ = AgentProfile.objects.get_or_create(user_id=user_id)
        lines.extend(_copy_lines(profile.pk, spans, reasons))
        last = spans[-1]
        AgentProfile.objects.filter(pk=profile.pk).update(
            presence=Presence.OFFLINE, reason=None, presence_since=last.start, after_contact_until=None
        )
        agents += 1
    if lines:
        _copy(lines)
    return {"agents": agents, "presence_changes": len(lines)}
