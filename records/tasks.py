"""Celery tasks of the System of Record. Tasks take ids, are idempotent and retry with backoff."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from records.cases.services import case_mark_breaches


@shared_task(
    name="records.cases.mark_sla_breaches",
    **database_retry(backoff_max=300),
)
def mark_sla_breaches() -> int:
    """Flag open cases past their SLA due times; safe to run twice (already-flagged cases are skipped)."""
    return case_mark_breaches()
