"""Reads of the people side of schedules (issue 15, part D): an agent's own week and requests, the
requests a planner decides, one agent's week in a schedule for the editor. Every read goes through
``engagement.wfm.access``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from cea.accounts.types import AnyUser
from cea.common.roles import sees_everything, team_ids_of
from engagement.routing.models import AgentProfile
from engagement.wfm.access import (
    agents_planned_by,
    own_published_shifts,
    swaps_visible_to,
    time_off_visible_to,
)
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.coverage import week_bounds
from engagement.wfm.scheduling.editing import contract_of, contract_warnings, local, team_queues, week_shifts
from engagement.wfm.scheduling.models import (
    AgentContract,
    RequestStatus,
    Schedule,
    ScheduleStatus,
    Shift,
    ShiftActivity,
    SwapRequest,
    TimeOff,
)

RECENT_DAYS = 30


@dataclass
class Day:
    """One local day of a week and the shifts starting on it."""

    date: dt.date
    shifts: list[Shift] = field(default_factory=list)

    @property
    def is_today(self) -> bool:
        return self.date == timezone.localdate()


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _with_activities(shifts: QuerySet[Shift]) -> QuerySet[Shift]:
    activities = ShiftActivity.objects.select_related("planning_queue").order_by("starts_at")
    return shifts.prefetch_related(Prefetch("activities", queryset=activities)).select_related("agent__user")


def _days(week_start: dt.date, shifts: list[Shift]) -> list[Day]:
    days = [Day(week_start + dt.timedelta(days=offset)) for offset in range(7)]
    for shift in shifts:
        offset = (local(shift.starts_at).date() - week_start).days
        if 0 <= offset < 7:
            days[offset].shifts.append(shift)
    return days


def my_week(*, user: AnyUser, week_start: dt.date) -> list[Day]:
    """The signed-in agent's published shifts of the week starting on ``week_start``, day by day."""
    start, end = week_bounds(week_start)
    shifts = own_published_shifts(user).filter(starts_at__gte=start, starts_at__lt=end)
    return _days(week_start, list(_with_activities(shifts)))


def my_time_off(*, user: AnyUser) -> list[TimeOff]:
    """The agent's own time off ending within the last month or later."""
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    return list(
        time_off_visible_to(user).filter(agent__user_id=int(user.pk or 0), ends_at__gte=since).order_by("starts_at")
    )


def my_swaps(*, user: AnyUser) -> list[SwapRequest]:
    """Swaps the agent asked for or is asked, open ones and those of the last month."""
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    me = int(user.pk or 0)
    mine = Q(requester__user_id=me) | Q(counterpart__user_id=me)
    return list(swaps_visible_to(user).filter(mine, created_at__gte=since).order_by("-created_at"))


def my_future_shifts(*, user: AnyUser) -> list[Shift]:
    """The agent's published shifts not yet started (what they may offer in a swap)."""
    return list(own_published_shifts(user).filter(starts_at__gt=timezone.now()).order_by("starts_at"))


def swap_colleagues(*, user: AnyUser) -> list[AgentProfile]:
    """The agents and supervisors sharing a team with the signed-in agent (whom they may ask)."""
    teams = team_ids_of(user)
    return list(
        AgentProfile.objects.select_related("user")
        .filter(user__teams__in=teams, user__role__in=("agent", "supervisor"), user__is_active=True)
        .exclude(user_id=int(user.pk or 0))
        .distinct()
        .order_by("user__first_name", "user__last_name", "user__username")
    )


def colleagues_future_shifts(*, user: AnyUser) -> list[Shift]:
    """The published, future shifts of the agent's colleagues (what they may ask for in return)."""
    colleagues = [colleague.pk for colleague in swap_colleagues(user=user)]
    return list(
        Shift.objects.select_related("agent__user")
        .filter(agent_id__in=colleagues, schedule__status=ScheduleStatus.PUBLISHED, starts_at__gt=timezone.now())
        .filter(schedule__team_id__in=team_ids_of(user))
        .order_by("starts_at")[:200]
    )


@dataclass
class RequestsToDecide:
    time_off: list[TimeOff]
    swaps_accepted: list[SwapRequest]
    swaps_waiting: list[SwapRequest]
    recent_time_off: list[TimeOff]


def requests_to_decide(*, user: AnyUser) -> RequestsToDecide:
    """Time off requested by the planner's agents, swaps accepted (to decide) and awaiting a colleague."""
    agents = agents_planned_by(user)
    time_off = TimeOff.objects.filter(agent__in=agents).select_related("agent__user", "decided_by")
    swaps = swaps_visible_to(user)
    if not sees_everything(user):
        swaps = swaps.filter(shift__schedule__team_id__in=team_ids_of(user))
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    return RequestsToDecide(
        time_off=list(time_off.filter(status=RequestStatus.REQUESTED).order_by("starts_at")),
        swaps_accepted=list(swaps.filter(status=RequestStatus.ACCEPTED).order_by("created_at")),
        swaps_waiting=list(swaps.filter(status=RequestStatus.REQUESTED).order_by("created_at")),
        recent_time_off=list(
            time_off.exclude(status=RequestStatus.REQUESTED).filter(ends_at__gte=since).order_by("-starts_at")[:50]
        ),
    )


@dataclass
class AgentWeek:
    schedule: Schedule
    agent: AgentProfile
    contract: AgentContract
    days: list[Day]
    time_off: list[TimeOff]
    warnings: list[str]
    queues: list[PlanningQueue]


def agent_week(*, schedule: Schedule, agent: AgentProfile) -> AgentWeek:
    """One agent's shifts in ``schedule`` (the caller has checked access to both), their approved and
    requested time off that week, their contract and how the week breaches it, the team's queues."""
    start, end = week_bounds(schedule.week_start)
    shifts = _with_activities(Shift.objects.filter(schedule=schedule, agent=agent))
    time_off = TimeOff.objects.filter(
        agent=agent,
        status__in=(RequestStatus.REQUESTED, RequestStatus.APPROVED),
        starts_at__lt=end,
        ends_at__gt=start,
    )
    return AgentWeek(
        schedule=schedule,
        agent=agent,
        contract=contract_of(agent),
        days=_days(schedule.week_start, list(shifts)),
        time_off=list(time_off),
        warnings=contract_warnings(agent, week_shifts(agent, schedule)),
        queues=list(team_queues(schedule.team_id)),
    )


def schedule_agents(*, user: AnyUser, schedule: Schedule) -> list[AgentProfile]:
    """The agents of ``schedule``'s team the planner plans (for the editor's agent links)."""
    agents = agents_planned_by(user)
    if schedule.team_id is not None:
        agents = agents.filter(user__teams=schedule.team_id)
    return list(agents.order_by("user__first_name", "user__last_name", "user__username"))
