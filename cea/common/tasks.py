"""Celery conventions shared by every app's tasks."""

from __future__ import annotations

from typing import Any

from django.db import OperationalError


def database_retry(*, backoff_max: int) -> dict[str, Any]:
    """Task options for an idempotent task: acknowledged late, retried (with backoff up to
    ``backoff_max`` seconds and jitter, five times) when the database is briefly unreachable."""
    return {
        "acks_late": True,
        "autoretry_for": (OperationalError,),
        "retry_backoff": True,
        "retry_backoff_max": backoff_max,
        "retry_jitter": True,
        "max_retries": 5,
    }
