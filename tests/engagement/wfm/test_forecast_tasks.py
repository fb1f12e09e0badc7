"""Forecasting's Celery tasks: the nightly refresh and the intraday re-forecast, and their beat entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from engagement.wfm.forecasting.models import ForecastRun, RunKind
from engagement.wfm.forecasting.synthetic import synthetic_history
from engagement.wfm.forecasting.tasks import forecast_intraday_all, forecast_queue, forecast_refresh_all
from tests.engagement.wfm.forecast_support import history_write, planning_queue

pytestmark = pytest.mark.django_db


def test_the_nightly_refresh_runs_every_active_queue(eager_tasks):
    # Given: two active queues (one with three days of history) and an inactive one
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    busy = planning_queue(queue="support")
    history_write(synthetic_history(days=3, per_day=48, peak=5), queue="support", start=start, interval_minutes=30)
    quiet = planning_queue(queue="sales")
    paused = planning_queue(queue="old", is_active=False)
    # When
    assert forecast_refresh_all() == 2
    # Then
    runs = ForecastRun.objects.filter(kind=RunKind.SCHEDULED, status="done")
    assert sorted(runs.values_list("planning_queue_id", flat=True)) == sorted([busy.pk, quiet.pk])
    assert not ForecastRun.objects.filter(planning_queue=paused).exists()
    # And the intraday pass re-forecasts both (each has today's forecast), skipping the inactive one
    assert forecast_intraday_all() == 2
    assert ForecastRun.objects.filter(kind=RunKind.INTRADAY).count() == 2


def test_intraday_skips_queues_without_a_forecast():
    planning_queue(queue="support")
    assert forecast_intraday_all() == 0
    assert not ForecastRun.objects.exists()


def test_a_deleted_queue_is_nothing_to_do():
    assert forecast_queue(987654) is None


def test_the_beat_runs_both_passes():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"engagement.wfm.forecast_refresh_all", "engagement.wfm.forecast_intraday_all"} <= tasks
