"""The sync task: take a connector's id, run a sync, retry with backoff when the system may come back."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from cea.common.errors import ApplicationError
from integration.connectors.base import ConnectorError
from integration.retry import backoff_seconds
from integration.sync.models import RunTrigger
from integration.sync.services import (
    RETRY_BASE_SECONDS,
    RETRY_MAX_ATTEMPTS,
    RETRY_MAX_SECONDS,
    SyncBusy,
    connector_sync,
)


def retry_countdown(retries: int, *, retry_after: float | None = None) -> float:
    """Seconds before the next try, after ``retries`` retries so far (Celery's ``request.retries``)."""
    return backoff_seconds(attempt=retries + 1, base=RETRY_BASE_SECONDS, cap=RETRY_MAX_SECONDS, retry_after=retry_after)


@shared_task(name="integration.sync.run", bind=True, acks_late=True, max_retries=RETRY_MAX_ATTEMPTS)
def run(self, connector_id: int, trigger: str = RunTrigger.SCHEDULE) -> dict:
    """Sync connector ``connector_id`` once; idempotent (a run resumes from the last watermark).

    A retryable ``ConnectorError`` (or a lost database connection) is retried after
    ``retry_countdown`` (``integration.retry.backoff_seconds``: exponential, capped, with
    jitter; at least the system's Retry-After, up to the cap); a permanent one ends here,
    recorded on the failed run. A run already in progress makes this one a no-op: the live one
    will load the same pages; so does a connector deleted or switched off since the task was sent.
    """
    try:
        sync_run = connector_sync(connector_id=connector_id, trigger=trigger, task_id=self.request.id or "")
    except SyncBusy:
        return {"connector": connector_id, "skipped": "busy"}
    except ApplicationError as refused:  # gone, or switched off since the task was sent
        return {"connector": connector_id, "skipped": refused.message}
    except ConnectorError as error:
        if error.permanent:
            return {"connector": connector_id, "failed": error.message}
        raise self.retry(
            exc=error, countdown=retry_countdown(self.request.retries, retry_after=error.retry_after)
        ) from None
    except OperationalError as error:
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from None
    return {"connector": connector_id, "run": sync_run.pk, "status": sync_run.status}
