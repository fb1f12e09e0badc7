"""Celery tasks of the adapters: sending replies through providers, and the outbox's sweep."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from engagement.adapters.outbox import DELIVER_TASK, outbox_sweep, provider_send_deliver

logger = logging.getLogger(__name__)


@shared_task(
    name=DELIVER_TASK,
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=None,
)
def deliver_provider_message(self, send_id: int) -> str | None:
    """Send the queued reply ``send_id`` through its provider; a provider that is down is tried
    again later (the countdown the outbox chose), until the outbox gives up. The send's status after."""
    attempt = provider_send_deliver(send_id=send_id)
    if attempt is None:
        return None
    if attempt.retry_in is not None:
        if self.request.is_eager:
            # Run in the sender's process (tests, CELERY_TASK_ALWAYS_EAGER) there is no "later": the
            # reply stays queued for the sweep.
            logger.info("Send %s stays queued for the outbox sweep (eager run)", send_id)
            return attempt.status
        raise self.retry(countdown=attempt.retry_in, max_retries=None)
    return attempt.status


@shared_task(name="engagement.adapters.outbox_sweep", acks_late=True)
def sweep_outbox() -> int:
    """The beat's sweep: send again the queued replies whose retry is overdue."""
    return outbox_sweep(send_task=deliver_provider_message.delay)
