"""Factories of workforce management's rows."""

from __future__ import annotations

import datetime as dt

import factory

from engagement.wfm.forecasting.models import ForecastInterval
from engagement.wfm.planning.models import PlanningQueue


class PlanningQueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanningQueue

    queue = factory.Sequence(lambda n: f"queue-{n}")
    channel = "voice"
    interval_minutes = 15


class ForecastIntervalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForecastInterval

    planning_queue = factory.SubFactory(PlanningQueueFactory)
    interval_start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    volume = 100.0
    aht_seconds = 300.0


def forecast_day(planning_queue: PlanningQueue, start: dt.datetime, volumes: list[float], aht: float = 300.0):
    """Forecast intervals of ``planning_queue`` from ``start``, one per volume, ``aht`` seconds each."""
    step = dt.timedelta(minutes=planning_queue.interval_minutes)
    return [
        ForecastIntervalFactory(
            planning_queue=planning_queue, interval_start=start + index * step, volume=volume, aht_seconds=aht
        )
        for index, volume in enumerate(volumes)
    ]
