"""Celery tasks of sentiment and compliance: the backfills (idempotent; beat runs the sweeps, cea/settings.py).

Conversations that end through engagement are scored and checked as they are recorded (hooks, on
commit); the sweeps catch interactions recorded otherwise (the REST API, a connector's import).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from cea.common.tasks import database_retry
from insights.compliance.services import compliance_backfill
from insights.sentiment.services import sentiment_backfill

SWEEP_DAYS = 2


@shared_task(name="insights.sentiment.backfill", **database_retry(backoff_max=600))
def sentiment_backfill_task(rescore: bool = False, days: int = SWEEP_DAYS) -> dict[str, int]:
    """Score messages not scored yet and the interactions recorded in the last ``days`` days without a
    sentiment (0: every interaction; ``rescore``: score them again)."""
    since = timezone.now() - dt.timedelta(days=days) if days else None
    return sentiment_backfill(rescore=rescore, created_since=since)


@shared_task(name="insights.compliance.sweep", **database_retry(backoff_max=600))
def compliance_sweep_task(days: int = SWEEP_DAYS) -> dict[str, int]:
    """Check the interactions recorded in the last ``days`` days (0: every interaction)."""
    since = timezone.now() - dt.timedelta(days=days) if days else None
    return compliance_backfill(created_since=since)
