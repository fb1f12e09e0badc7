"""Celery tasks of recommended actions: the expiry sweep (beat)."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from engagement.recommendations.services import recommendations_expire


@shared_task(name="engagement.recommendations.expire", **database_retry(backoff_max=60))
def expire_recommendations() -> int:
    """Mark the open recommended actions past their expiry expired."""
    return recommendations_expire()
