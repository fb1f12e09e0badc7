"""Reading schedules: the list a planner sees, one schedule's agents × days grid, its coverage and what it
leaves unmet. Every function takes an object already fetched through ``engagement.wfm.access``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, QuerySet

from cea.accounts.models import Team
from cea.accounts.types import AnyUser
from cea.common.roles import sees_everything, team_ids_of
from engagement.routing.models import AgentProfile
from engagement.wfm.access import require_planner, schedules_visible_to
from engagement.wfm.scheduling.models import Schedule, ScheduleCoverage, Shift

UNMET_EPSILON = 0.05


def schedules_list(
    *, user: AnyUser, team_id: int | None = None, week_start: dt.date | None = None
) -> QuerySet[Schedule]:
    """The schedules ``user`` reads, newest week first, optionally of one team and week."""
    schedules = schedules_visible_to(user)
    if team_id is not None:
        schedules = schedules.filter(team_id=team_id)
    if week_start is not None:
        schedules = schedules.filter(week_start=week_start)
    return schedules


def teams_planned_by(user: AnyUser) -> QuerySet[Team]:
    """The teams whose schedules ``user`` generates: all for admins, a supervisor's own."""
    require_planner(user)
    teams = Team.objects.order_by("name")
    return teams if sees_everything(user) else teams.filter(pk__in=team_ids_of(user))


def schedule_shifts(*, schedule: Schedule) -> QuerySet[Shift]:
    """The schedule's shifts with their agents and activities, by agent and start."""
    return (
        Shift.objects.filter(schedule=schedule)
        .select_related("agent__user", "template")
        .prefetch_related("activities__planning_queue")
        .order_by("agent__user__username", "starts_at")
    )


@dataclass
class AgentWeek:
    agent: AgentProfile
    days: list[list[Shift]] = field(default_factory=list)  # Monday … Sunday (local)
    minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


def schedule_grid(*, schedule: Schedule) -> list[AgentWeek]:
    """Agents × days: each agent with a shift this week and their shifts by local day."""
    zone = ZoneInfo(settings.TIME_ZONE)
    weeks: dict[int, AgentWeek] = {}
    for shift in schedule_shifts(schedule=schedule):
        week = weeks.setdefault(shift.agent_id, AgentWeek(shift.agent, [[] for _ in range(7)]))
        day = (shift.starts_at.astimezone(zone).date() - schedule.week_start).days
        if 0 <= day < 7:
            week.days[day].append(shift)
        week.minutes += round((shift.ends_at - shift.starts_at).total_seconds() / 60)
    return sorted(weeks.values(), key=lambda week: week.agent.user.username)


def schedule_coverage(*, schedule: Schedule) -> QuerySet[ScheduleCoverage]:
    """The schedule's coverage rows, by interval and planning queue."""
    return ScheduleCoverage.objects.filter(schedule=schedule).select_related("planning_queue")


def schedule_unmet(*, schedule: Schedule) -> QuerySet[ScheduleCoverage]:
    """The coverage rows where fewer agents are scheduled than required."""
    return schedule_coverage(schedule=schedule).filter(required__gt=F("scheduled") + UNMET_EPSILON)


@dataclass(frozen=True)
class CoverageCell:
    required: float
    scheduled: float

    @property
    def state(self) -> str:
        """``under`` or ``over`` by more than half an agent, else ``met``."""
        if self.scheduled < self.required - 0.5:
            return "under"
        return "over" if self.scheduled > self.required + 0.5 else "met"


@dataclass
class CoverageStrip:
    """One planning queue's coverage as a days × hours table: per local hour, the mean agents required
    and scheduled over its intervals."""

    queue: str
    hours: list[int]
    days: list[tuple[dt.date, list[CoverageCell | None]]]


def coverage_strips(*, schedule: Schedule) -> list[CoverageStrip]:
    """Per planning queue, the week's coverage by local day and hour (hours with neither omitted)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    sums: dict[str, dict[tuple[int, int], list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    for row in schedule_coverage(schedule=schedule):
        local = row.interval_start.astimezone(zone)
        cell = sums[str(row.planning_queue)][((local.date() - schedule.week_start).days, local.hour)]
        cell[0] += row.required
        cell[1] += row.scheduled
        cell[2] += 1
    strips = []
    for queue, cells in sorted(sums.items()):
        hours = sorted({hour for _, hour in cells})
        days = []
        for day in range(7):
            values = []
            for hour in hours:
                sums_of = cells.get((day, hour))
                values.append(
                    CoverageCell(round(sums_of[0] / sums_of[2], 1), round(sums_of[1] / sums_of[2], 1))
                    if sums_of
                    else None
                )
            days.append((schedule.week_start + dt.timedelta(days=day), values))
        strips.append(CoverageStrip(queue, hours, days))
    return strips
