"""The sync task: take a connector's id, run a sync, retry with backoff when the system may come back."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from cea.common.errors import ApplicationError
from integration.connectors.base import ConnectorError
from integration.sync.models import RunTrigger
from integration.sync.services import RETRY_MAX_ATTEMPTS, SyncBusy, connector_sync, retry_delay


@shared_task(name="integration.sync.run", bind=True, acks_late=True, max_retries=RETRY_MAX_ATTEMPTS)
def run(self, connector_id: int, trigger: str = RunTrigger.SCHEDULE) -> dict:
    """Sync connector ``connector_id`` once; idempotent (a run resumes from the last watermark).

    A retryable ``ConnectorError`` (or a lost database connection) is retried after
    ``retry_delay`` (exponential, capped, with jitter; at least the system's Retry-After); a
    permanent one ends here, recorded on the failed run. A run already in progress makes this
    one a no-op: the live one will load the same pages; so does a connector deleted or switched
    off since the task was sent.
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
            exc=error, countdown=retry_delay(attempt=self.request.retries, retry_after=error.retry_after)
        ) from None
    except OperationalError as error:
        raise self.retry(exc=error, countdown=retry_delay(attempt=self.request.retries)) from None
    return {"connector": connector_id, "run": sync_run.pk, "status": sync_run.status}
