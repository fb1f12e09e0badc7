"""Celery tasks of the System of Record. Tasks take ids, are idempotent and retry with backoff."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from records.cases.services import case_mark_breaches


@shared_task(
    name="records.cases.mark_sla_breaches",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def mark_sla_breaches() -> int:
    """Flag open cases past their SLA due times; safe to run twice (already-flagged cases are skipped)."""
    return case_mark_breaches()
