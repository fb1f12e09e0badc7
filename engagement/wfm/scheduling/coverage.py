"""A schedule's coverage: per planning queue of its team and interval of its week, the agents required
(with shrinkage) against the agents scheduled on contacts for that queue.

An agent on contacts for part of an interval counts for that part (a shift starting at 09:10 is
two thirds of an agent in the 09:00–09:15 interval); breaks, lunch and other activities count for
nothing. Recomputed after the solver runs and after every edit, swap and time off approved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction

from cea.common.days import local_days_bounds
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.models import ActivityKind, Schedule, ScheduleCoverage, ShiftActivity
from engagement.wfm.staffing.models import StaffingRequirement


def week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The week from local midnight of ``week_start`` to local midnight seven days later, in UTC."""
    return local_days_bounds(week_start, 7)


def _interval_starts(start: dt.datetime, end: dt.datetime, minutes: int) -> list[dt.datetime]:
    """Interval starts in UTC from ``start`` to ``end`` (a DST day has 23 or 25 hours of them)."""
    step = dt.timedelta(minutes=minutes)
    moment, starts = start.astimezone(dt.UTC), []
    finish = end.astimezone(dt.UTC)
    while moment < finish:
        starts.append(moment)
        moment += step
    return starts


def scheduled_agents(
    activities: list[tuple[int, dt.datetime, dt.datetime]], *, minutes: dict[int, int]
) -> dict[tuple[int, dt.datetime], float]:
    """Agents on contacts per (planning queue, interval start): each activity ``(queue id, start, end)``
    counts for the share of each interval it covers."""
    scheduled: dict[tuple[int, dt.datetime], float] = defaultdict(float)
    for queue_id, start, end in activities:
        step = dt.timedelta(minutes=minutes[queue_id])
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        epoch = dt.datetime(2000, 1, 3, tzinfo=dt.UTC)  # a Monday; intervals are aligned to it
        interval = epoch + ((start - epoch) // step) * step
        while interval < end:
            overlap = min(end, interval + step) - max(start, interval)
            scheduled[(queue_id, interval)] += overlap / step
            interval += step
    return scheduled


@transaction.atomic
def schedule_coverage_refresh(*, schedule: Schedule) -> None:
    """Rewrite ``schedule``'s coverage rows and its under- and over-staffed agent-minutes.

    The schedule's row is locked first, so two rewrites of one schedule (an edit and an approval at
    once) follow each other instead of both inserting rows."""
    Schedule.objects.select_for_update().filter(pk=schedule.pk).first()
    start, end = week_bounds(schedule.week_start)
    of_team = PlanningQueue.objects.filter(is_active=True)
    of_team = of_team.filter(team__isnull=True) if schedule.team_id is None else of_team.filter(team=schedule.team_id)
    queues = {queue.pk: queue for queue in of_team}
    minutes = {pk: queue.interval_minutes for pk, queue in queues.items()}
    required = {
        (row.planning_queue_id, row.interval_start): row.agents_with_shrinkage
        for row in StaffingRequirement.objects.filter(
            planning_queue_id__in=queues, interval_start__gte=start, interval_start__lt=end
        )
    }
    activities = ShiftActivity.objects.filter(
        shift__schedule=schedule, kind=ActivityKind.WORK, planning_queue_id__in=queues
    ).values_list("planning_queue_id", "starts_at", "ends_at")
    scheduled = scheduled_agents(list(activities), minutes=minutes)
    rows, under, over = [], 0.0, 0.0
    for pk, queue in queues.items():
        for interval in _interval_starts(start, end, queue.interval_minutes):
            need, have = required.get((pk, interval), 0.0), round(scheduled.get((pk, interval), 0.0), 4)
            if need or have:
                rows.append(
                    ScheduleCoverage(
                        schedule=schedule, planning_queue_id=pk, interval_start=interval, required=need, scheduled=have
                    )
                )
                under += max(need - have, 0.0) * queue.interval_minutes
                over += max(have - need, 0.0) * queue.interval_minutes
    ScheduleCoverage.objects.filter(schedule=schedule).delete()
    ScheduleCoverage.objects.bulk_create(rows, batch_size=2000)
    schedule.under_minutes, schedule.over_minutes = round(under, 1), round(over, 1)
    schedule.save(update_fields=["under_minutes", "over_minutes", "updated_at"])
