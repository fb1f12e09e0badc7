"""Adherence, read: agents' timelines (published activities and presence), their live state, days and exceptions.

The live rows are computed on read from the rows routing and scheduling keep (``PresenceChange``,
published ``ShiftActivity``) by the pure engine; the days are ``AdherenceDay`` rows the day's job
wrote. The functions that take a ``user`` check through ``engagement.wfm.access``; the ones that
take team ids are for insights, which checked its user's teams itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from cea.accounts.types import AnyUser
from cea.common.days import local_day_bounds
from cea.common.roles import sees_everything, team_ids_of
from engagement.routing.models import AgentProfile, PresenceChange
from engagement.wfm.access import agents_planned_by, require_wfm_reader
from engagement.wfm.adherence.engine import LiveState, PresenceSpan, Scheduled, Segment, live_state, segments, share
from engagement.wfm.adherence.models import AdherenceDay, AdherenceException
from engagement.wfm.scheduling.models import ScheduleStatus, Shift

# How far back the live state looks for when an agent's status began (an out run longer than this
# reads as starting this long ago).
LIVE_LOOKBACK = timedelta(hours=12)


@dataclass
class Timeline:
    """One agent's published activities and presence spans overlapping a window."""

    scheduled: list[Scheduled]
    presence: list[PresenceSpan]


def published_shifts_between(
    *, start: datetime, end: datetime, agent_ids: Iterable[int] | None = None
) -> QuerySet[Shift]:
    """Published shifts overlapping [start, end), with their activities and schedule."""
    shifts = Shift.objects.filter(
        schedule__status=ScheduleStatus.PUBLISHED, starts_at__lt=end, ends_at__gt=start
    ).select_related("schedule")
    if agent_ids is not None:
        shifts = shifts.filter(agent_id__in=list(agent_ids))
    return shifts.prefetch_related("activities")


def _scheduled_of(shift: Shift) -> list[Scheduled]:
    """The shift's activities; where activities leave a gap (or there are none), the shift is work."""
    activities = sorted(shift.activities.all(), key=lambda activity: activity.starts_at)
    items: list[Scheduled] = []
    cursor = shift.starts_at
    for activity in activities:
        if activity.starts_at > cursor:
            items.append(Scheduled("work", cursor, activity.starts_at, shift.pk))
        items.append(Scheduled(activity.kind, activity.starts_at, activity.ends_at, shift.pk))
        cursor = max(cursor, activity.ends_at)
    if cursor < shift.ends_at:
        items.append(Scheduled("work", cursor, shift.ends_at, shift.pk))
    return items


def timelines(*, agent_ids: Iterable[int], start: datetime, end: datetime) -> dict[int, Timeline]:
    """Each agent's timeline over [start, end): two queries for any number of agents."""
    ids = list(agent_ids)
    found: dict[int, Timeline] = defaultdict(lambda: Timeline([], []))
    for shift in published_shifts_between(start=start, end=end, agent_ids=ids):
        found[shift.agent_id].scheduled.extend(_scheduled_of(shift))
    changes = (
        PresenceChange.objects.filter(agent_id__in=ids, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("reason")
        .order_by("started_at", "id")
    )
    for change in changes:
        reason = change.reason.code if change.reason else ""
        span = PresenceSpan(change.presence, change.started_at, change.ended_at, reason)
        found[change.agent_id].presence.append(span)
    return {agent_id: found[agent_id] for agent_id in ids}


@dataclass(frozen=True)
class AgentLive:
    """An agent's live adherence row."""

    agent_id: int
    user_id: int
    name: str
    team_ids: tuple[int, ...]
    state: LiveState
    open_exception_id: int | None
    segments: tuple[Segment, ...] = ()


def live_states(*, agents: Iterable[AgentProfile], now: datetime) -> list[AgentLive]:
    """The live rows of ``agents`` at ``now`` (a handful of queries whatever their number)."""
    agents = list(agents)
    day_start, _ = local_day_bounds(timezone.localdate(now))
    window_start = min(day_start, now - LIVE_LOOKBACK)
    lines = timelines(agent_ids=[agent.pk for agent in agents], start=window_start, end=now)
    teams: dict[int, list[int]] = defaultdict(list)
    for agent_id, team_id in AgentProfile.objects.filter(pk__in=[a.pk for a in agents]).values_list(
        "pk", "user__teams"
    ):
        if team_id is not None:
            teams[agent_id].append(team_id)
    open_exceptions = dict(
        AdherenceException.objects.filter(agent__in=agents, ended_at__isnull=True).values_list("agent_id", "pk")
    )
    rows = []
    for agent in agents:
        line = lines[agent.pk]
        pieces = segments(line.scheduled, line.presence, start=window_start, end=now)
        rows.append(
            AgentLive(
                agent_id=agent.pk,
                user_id=agent.user_id,
                name=agent.user.get_full_name() or agent.user.username,
                team_ids=tuple(sorted(teams[agent.pk])),
                state=live_state(pieces, now=now, day_start=day_start),
                open_exception_id=open_exceptions.get(agent.pk),
                segments=tuple(pieces),
            )
        )
    return rows


def live_json(row: AgentLive) -> dict[str, Any]:
    """A live row as the API and the page's pushes carry it."""
    state = row.state
    return {
        "agent": row.agent_id,
        "user": row.user_id,
        "name": row.name,
        "teams": list(row.team_ids),
        "scheduled": state.scheduled,
        "actual": state.actual,
        "actual_presence": state.actual_label,
        "status": state.status,
        "since": state.since.isoformat() if state.since else None,
        "shift": state.shift_id,
        "adherence_today": state.today.adherence,
        "conformance_today": state.today.conformance,
        "open_exception": row.open_exception_id,
    }


def adherence_live(*, user: AnyUser, team_id: int | None = None, now: datetime | None = None) -> list[AgentLive]:
    """The live rows of the agents ``user`` plans for (``team_id``: of that team only); agents refused."""
    agents = agents_planned_by(user)
    if team_id is not None:
        agents = agents.filter(user__teams=team_id)
    return live_states(agents=agents.order_by("user__username"), now=now or timezone.now())


# --- Exceptions and days ------------------------------------------------------------------------


def exceptions_visible_to(user: AnyUser) -> QuerySet[AdherenceException]:
    """The exceptions of the agents ``user`` plans for (open ones first, then the latest)."""
    agents = agents_planned_by(user)
    return (
        AdherenceException.objects.filter(agent__in=agents.values("pk"))
        .select_related("agent__user")
        .order_by("-started_at", "-id")
    )


def days_visible_to(user: AnyUser) -> QuerySet[AdherenceDay]:
    """Adherence days ``user`` reads: all for admins and clients, their teams' (the team the agent was
    in that day) for supervisors; agents refused."""
    require_wfm_reader(user)
    days = AdherenceDay.objects.select_related("agent__user")
    if sees_everything(user):
        return days
    return days.filter(team_id__in=team_ids_of(user))


# --- For insights: figures over days, per agent and per team -----------------------------------

FIGURES = {
    "scheduled_seconds": Sum("scheduled_seconds"),
    "in_adherence_seconds": Sum("in_adherence_seconds"),
    "scheduled_work_seconds": Sum("scheduled_work_seconds"),
    "worked_seconds": Sum("worked_seconds"),
    "exceptions": Sum("exceptions"),
    "days": Count("id"),
}


def _between(*, start: date, end: date, team_ids: Iterable[int] | None) -> QuerySet[AdherenceDay]:
    days = AdherenceDay.objects.filter(day__gte=start, day__lte=end)
    return days if team_ids is None else days.filter(team_id__in=list(team_ids))


def _with_ratios(row: dict[str, Any]) -> dict[str, Any]:
    row["adherence"] = share(row["in_adherence_seconds"], row["scheduled_seconds"])
    row["conformance"] = share(row["worked_seconds"], row["scheduled_work_seconds"])
    row["adherence_percent"] = 100 * row["adherence"] if row["adherence"] is not None else None
    row["conformance_percent"] = 100 * row["conformance"] if row["conformance"] is not None else None
    row["scheduled_hours"] = (row["scheduled_seconds"] or 0) / 3600
    return row


def adherence_by_agent(*, start: date, end: date, team_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Per agent over the days [start, end] (inclusive): the summed seconds, exceptions, days measured,
    ``adherence`` and ``conformance`` (ratios of the summed seconds, ``None`` where nothing was scheduled;
    also as ``*_percent``) and ``scheduled_hours``. ``team_ids`` ``None``: all teams."""
    rows = (
        _between(start=start, end=end, team_ids=team_ids)
        .values("agent_id", "agent__user__username", "agent__user__first_name", "agent__user__last_name")
        .annotate(**FIGURES)
        .order_by("agent__user__username")
    )
    return [
        _with_ratios(
            {
                "agent_id": row["agent_id"],
                "name": f"{row['agent__user__first_name']} {row['agent__user__last_name']}".strip()
                or row["agent__user__username"],
                **{key: row[key] for key in FIGURES},
            }
        )
        for row in rows
    ]


def adherence_by_team(*, start: date, end: date, team_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Per team (the agent's team on each day) over [start, end]: as ``adherence_by_agent``."""
    rows = _between(start=start, end=end, team_ids=team_ids).values("team_id").annotate(**FIGURES).order_by("team_id")
    return [_with_ratios({"team_id": row["team_id"], **{key: row[key] for key in FIGURES}}) for row in rows]


def adherence_by_day(*, start: date, end: date, team_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Per day over [start, end], every agent of the teams together: as ``adherence_by_agent``."""
    rows = _between(start=start, end=end, team_ids=team_ids).values("day").annotate(**FIGURES).order_by("day")
    return [_with_ratios({"day": row["day"], **{key: row[key] for key in FIGURES}}) for row in rows]
