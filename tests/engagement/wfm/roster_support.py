"""Schedules built directly with the models for the roster tests (part D of issue 15): a team's
planning queue with a requirement, a published schedule of a future week, shifts tiled by activities."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from engagement.routing.models import AgentProfile
from engagement.routing.presence import agent_profile_for
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.coverage import schedule_coverage_refresh
from engagement.wfm.scheduling.models import ActivityKind, Schedule, ScheduleStatus, Shift, ShiftActivity
from engagement.wfm.staffing.models import StaffingRequirement


def future_monday(weeks_ahead: int = 2) -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks_ahead)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute`` in the current (local) time zone, aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def planning_queue(team, name: str = "billing") -> PlanningQueue:
    return PlanningQueue.objects.create(queue=name, channel="voice", team=team, interval_minutes=30)


def require(queue: PlanningQueue, start: dt.datetime, end: dt.datetime, agents: float) -> None:
    """The requirement ``agents`` (with shrinkage) in every interval of ``[start, end)``."""
    moment = start
    while moment < end:
        StaffingRequirement.objects.create(
            planning_queue=queue,
            interval_start=moment,
            volume=10,
            aht_seconds=300,
            agents=int(agents),
            agents_with_shrinkage=agents,
        )
        moment += dt.timedelta(minutes=queue.interval_minutes)


def schedule(team, week_start: dt.date, status: str = ScheduleStatus.PUBLISHED) -> Schedule:
    return Schedule.objects.create(team=team, week_start=week_start, status=status)


def profile(user) -> AgentProfile:
    return agent_profile_for(user)


def shift(
    schedule_: Schedule,
    agent: AgentProfile,
    day: dt.date,
    start_hour: int,
    hours: int,
    *,
    queue: PlanningQueue | None = None,
    lunch_hour: int | None = None,
) -> Shift:
    """A shift of ``hours`` from ``start_hour`` on ``day``: contacts on ``queue``, with an hour's lunch
    at ``lunch_hour`` if given; the schedule's coverage rewritten."""
    starts_at, ends_at = at(day, start_hour), at(day, start_hour) + dt.timedelta(hours=hours)
    made = Shift.objects.create(schedule=schedule_, agent=agent, starts_at=starts_at, ends_at=ends_at)
    pieces = [(starts_at, ends_at, ActivityKind.WORK)]
    if lunch_hour is not None:
        lunch = at(day, lunch_hour)
        pieces = [
            (starts_at, lunch, ActivityKind.WORK),
            (lunch, lunch + dt.timedelta(hours=1), ActivityKind.LUNCH),
            (lunch + dt.timedelta(hours=1), ends_at, ActivityKind.WORK),
        ]
    for start, end, kind in pieces:
        ShiftActivity.objects.create(
            shift=made,
            kind=kind,
            starts_at=start,
            ends_at=end,
            planning_queue=queue if kind == ActivityKind.WORK else None,
        )
    schedule_coverage_refresh(schedule=schedule_)
    return made


def tiling(shift_: Shift) -> list[tuple[str, str, str]]:
    """The shift's activities as ``(kind, start, end)`` in local ``HH:MM``."""
    hhmm = "%H:%M"
    return [
        (
            activity.kind,
            timezone.localtime(activity.starts_at).strftime(hhmm),
            timezone.localtime(activity.ends_at).strftime(hhmm),
        )
        for activity in shift_.activities.order_by("starts_at")
    ]
