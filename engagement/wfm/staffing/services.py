"""Writes of staffing: a planning queue's requirement per interval, from its forecast."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cea.common.errors import ValidationFailed
from engagement.wfm.forecasting.models import ForecastInterval
from engagement.wfm.planning.models import PlanningQueue, TargetKind
from engagement.wfm.staffing.erlang import StaffingInput, required_agents, with_shrinkage
from engagement.wfm.staffing.models import StaffingRequirement


def staffing_input_of(*, planning_queue: PlanningQueue, volume: float, aht_seconds: float) -> StaffingInput:
    """The staffing model's input for one interval of ``planning_queue``: its target, model and caps."""
    return StaffingInput(
        volume=volume,
        aht_seconds=aht_seconds,
        interval_seconds=planning_queue.interval_minutes * 60,
        model=planning_queue.model,
        target_kind=planning_queue.target_kind,
        service_level_target=planning_queue.service_level_percent / 100,
        service_level_seconds=planning_queue.service_level_seconds,
        asa_seconds=planning_queue.asa_seconds if planning_queue.target_kind == TargetKind.ASA else None,
        patience_seconds=planning_queue.patience_seconds,
        concurrency=planning_queue.concurrency,
        max_occupancy=planning_queue.max_occupancy_percent / 100,
    )


def _requirement_of(planning_queue: PlanningQueue, interval: ForecastInterval, now: dt.datetime) -> StaffingRequirement:
    volume, aht = interval.planned_volume, interval.planned_aht
    result = required_agents(staffing_input_of(planning_queue=planning_queue, volume=volume, aht_seconds=aht))
    return StaffingRequirement(
        planning_queue=planning_queue,
        interval_start=interval.interval_start,
        volume=volume,
        aht_seconds=aht,
        agents=result.agents,
        agents_with_shrinkage=with_shrinkage(result.agents, planning_queue.shrinkage_percent),
        service_level=result.service_level,
        asa_seconds=result.asa_seconds,
        occupancy=result.occupancy,
        abandon_rate=result.abandon_rate,
        computed_at=now,
    )


@transaction.atomic
def requirements_compute(*, planning_queue: PlanningQueue, start: dt.datetime, end: dt.datetime) -> int:
    """Compute ``planning_queue``'s requirement for every forecast interval in ``[start, end)`` from its
    planned figures (a planner's adjustment where set) and upsert the ``StaffingRequirement`` rows.

    Requirements in ``[start, end)`` whose interval has no forecast any more are deleted (a stale
    requirement would be scheduled for); rows outside ``[start, end)`` are untouched. Returns the
    number of requirements written. ``ValidationFailed`` when ``end`` is not after ``start``.
    """
    if end <= start:
        raise ValidationFailed("The end must be after the start.", fields={"end": ["Must be after the start."]})
    now = timezone.now()
    intervals = ForecastInterval.objects.filter(
        planning_queue=planning_queue, interval_start__gte=start, interval_start__lt=end
    ).order_by("interval_start")
    rows = [_requirement_of(planning_queue, interval, now) for interval in intervals]
    StaffingRequirement.objects.filter(
        planning_queue=planning_queue, interval_start__gte=start, interval_start__lt=end
    ).exclude(interval_start__in=[row.interval_start for row in rows]).delete()
    StaffingRequirement.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["planning_queue", "interval_start"],
        update_fields=[
            "volume",
            "aht_seconds",
            "agents",
            "agents_with_shrinkage",
            "service_level",
            "asa_seconds",
            "occupancy",
            "abandon_rate",
            "computed_at",
        ],
    )
    return len(rows)
