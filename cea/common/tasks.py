"""Celery conventions shared by every app's tasks, and the one way to send a task after commit."""

from __future__ import annotations

from typing import Any

from django.db import OperationalError, transaction


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


def send_on_commit(task, *args: Any, queue: str | None = None, countdown: float | None = None, **kwargs: Any) -> None:
    """Send ``task`` with these arguments once the current transaction commits (at once outside one).

    A task must never run before the rows it reads are visible, nor run for a write that rolled
    back; every app sends its tasks this way. ``queue`` and ``countdown`` are Celery's send options.
    """
    options = {name: value for name, value in (("queue", queue), ("countdown", countdown)) if value is not None}
    if options:
        transaction.on_commit(lambda: task.apply_async(args, kwargs, **options))
    else:
        transaction.on_commit(lambda: task.delay(*args, **kwargs))
