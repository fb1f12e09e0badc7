"""Celery tasks of proactive outbound: delivering an SMS, queueing callbacks when they are due."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from cea.common.tasks import database_retry
from engagement.idv.senders import SmsSendError
from engagement.outbound.delivery import sms_message_deliver
from engagement.outbound.services import DELIVER_SMS_TASK, QUEUE_CALLBACK_TASK, callback_queue_due, callbacks_queue_due


class RetryableSmsError(Exception):
    """A sender's failure worth trying again (``SmsSendError.retryable``)."""


@shared_task(
    name=DELIVER_SMS_TASK,
    acks_late=True,
    autoretry_for=(RetryableSmsError, OSError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_outbound_sms(message_id: int) -> bool:
    """Send the outbound SMS ``message_id`` if it is still queued (a sent one is never sent twice)."""
    try:
        return sms_message_deliver(message_id=message_id)
    except SmsSendError as error:
        if error.retryable:
            raise RetryableSmsError(str(error)) from error
        raise


@shared_task(name=QUEUE_CALLBACK_TASK, **database_retry(backoff_max=60))
def queue_due_callback(callback_id: int) -> bool:
    """Queue the callback if it is due (sent with its delay; early or repeated, it does nothing)."""
    return callback_queue_due(callback_id=callback_id)


@shared_task(name="engagement.outbound.queue_due_callbacks", acks_late=True)
def queue_due_callbacks() -> int:
    """The beat's sweep: queue every callback that is due and still scheduled."""
    return callbacks_queue_due()
