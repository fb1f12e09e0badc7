"""Celery task of the journey stages: assign stages from new journey events (beat, every minute)."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from insights.journeys.assignment import stages_refresh


@shared_task(name="insights.journeys.assign_stages", **database_retry(backoff_max=300))
def assign_stages() -> int:
    """Assign stages from the facts past the watermark; idempotent. Returns the customers whose stage changed."""
    return stages_refresh().changed
