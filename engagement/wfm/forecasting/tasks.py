"""Celery tasks of forecasting: the nightly refresh of every active planning queue, the intraday
re-forecast every 30 minutes (beat entries in cea/settings.py), and one queue's run.

After writing a queue's intervals, a task has its staffing requirement recomputed over the same range
(``engagement.wfm.staffing.services.requirements_compute``): the task does it, not the service, so a
forecast can be run (in tests, the bench) without touching the requirement.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task

from cea.common.errors import ApplicationError
from cea.common.tasks import database_retry
from engagement.wfm.forecasting.models import ForecastRun, RunKind, RunStatus
from engagement.wfm.forecasting.services import forecast_intraday, forecast_run
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.staffing.services import requirements_compute

logger = logging.getLogger(__name__)
RETRY = database_retry(backoff_max=300)


def requirements_refresh(*, planning_queue: PlanningQueue, start: datetime, end: datetime) -> int:
    """Recompute the queue's staffing requirement over ``[start, end)`` from the intervals just written."""
    return requirements_compute(planning_queue=planning_queue, start=start, end=end)


@shared_task(name="engagement.wfm.forecast_queue", **RETRY)
def forecast_queue(planning_queue_id: int, kind: str = RunKind.SCHEDULED, user_id: int | None = None) -> int | None:
    """Run one queue's forecast and recompute its requirement; returns the run's id (``None``: no such queue)."""
    queue = PlanningQueue.objects.filter(pk=planning_queue_id).first()
    if queue is None:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = forecast_run(planning_queue=queue, kind=kind, user=user)
    if run.status == RunStatus.DONE and run.horizon_start and run.horizon_end:
        requirements_refresh(planning_queue=queue, start=run.horizon_start, end=run.horizon_end)
    return run.pk


@shared_task(name="engagement.wfm.forecast_refresh_all", acks_late=True)
def forecast_refresh_all() -> int:
    """The nightly refresh: every active planning queue's forecast, one task each."""
    ids = list(PlanningQueue.objects.filter(is_active=True).values_list("pk", flat=True))
    for pk in ids:
        forecast_queue.delay(pk)
    return len(ids)


@shared_task(name="engagement.wfm.forecast_intraday_all", acks_late=True)
def forecast_intraday_all() -> int:
    """Every active queue with a forecast for today: re-forecast the rest of today from its actuals."""
    done = 0
    for queue in PlanningQueue.objects.filter(is_active=True):
        try:
            run: ForecastRun = forecast_intraday(planning_queue=queue)
        except ApplicationError as refusal:  # no forecast for today: nothing to re-forecast
            logger.info("intraday re-forecast of %s skipped: %s", queue.pk, refusal.message)
            continue
        if run.horizon_start and run.horizon_end:
            requirements_refresh(planning_queue=queue, start=run.horizon_start, end=run.horizon_end)
        done += 1
    return done


__all__ = ["forecast_intraday_all", "forecast_queue", "forecast_refresh_all"]
