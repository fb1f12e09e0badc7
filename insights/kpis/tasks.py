"""Celery tasks of the KPIs: keep the contact rollup current (beat, every CEA_INSIGHTS_ROLLUP_SECONDS)."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from insights.kpis.rollup import contact_rollup_refresh


@shared_task(
    name="insights.kpis.rollup_contacts",
    **database_retry(backoff_max=300),
)
def rollup_contacts() -> int:
    """Roll up the contacts changed since the watermark; idempotent. Returns the intervals re-computed."""
    return contact_rollup_refresh().intervals
