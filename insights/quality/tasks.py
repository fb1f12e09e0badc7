"""Celery task of quality assurance: fill the sampling queue (beat, daily; idempotent)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from cea.common.tasks import database_retry
from insights.quality.sampling import sample_week, week_start_of


@shared_task(name="insights.quality.sample", **database_retry(backoff_max=600))
def sample_interactions(week_start: str | None = None) -> int:
    """Sample the week of ``week_start`` (ISO date; default: this week, and last week too so that its
    last days are sampled once they ended). Returns how many interactions were added to the queue."""
    if week_start:
        return sample_week(week_start=week_start_of(dt.date.fromisoformat(week_start))).total
    this_week = week_start_of(timezone.localdate())
    return sample_week(week_start=this_week - dt.timedelta(days=7)).total + sample_week(week_start=this_week).total
