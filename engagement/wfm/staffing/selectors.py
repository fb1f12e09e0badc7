"""Reads of staffing: requirements per planning queue and interval, and a local day's bounds."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.staffing.models import StaffingRequirement


def requirements_between(
    *,
    planning_queue: PlanningQueue | None = None,
    planning_queues: QuerySet[PlanningQueue] | None = None,
    start: dt.datetime,
    end: dt.datetime,
) -> QuerySet[StaffingRequirement]:
    """Requirements with an interval starting in ``[start, end)``, of one planning queue or of several
    (neither: of all), ordered by queue and interval. Checks nobody: callers pass what the user reads."""
    requirements = StaffingRequirement.objects.filter(interval_start__gte=start, interval_start__lt=end)
    if planning_queue is not None:
        requirements = requirements.filter(planning_queue=planning_queue)
    if planning_queues is not None:
        requirements = requirements.filter(planning_queue__in=planning_queues)
    return requirements.select_related("planning_queue").order_by("planning_queue_id", "interval_start")


def requirement_day_totals(requirements: list[StaffingRequirement], interval_minutes: int) -> dict[str, float]:
    """A day's totals: contacts, agent-hours on contacts and with shrinkage, the peak agents."""
    hours = interval_minutes / 60
    return {
        "volume": sum(row.volume for row in requirements),
        "agent_hours": sum(row.agents for row in requirements) * hours,
        "agent_hours_with_shrinkage": sum(row.agents_with_shrinkage for row in requirements) * hours,
        "peak_agents": max((row.agents for row in requirements), default=0),
    }
