"""Celery tasks of voice call control: put an accepted call through to its agent, put a transferred one
back to waiting. Both are idempotent: a call no longer in the state they act on is left alone."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task, shared_task

from engagement.adapters.voice_control.client import CallUpdateFailed
from engagement.adapters.voice_control.services import CALL_CONNECT_TASK, CALL_REQUEUE_TASK, call_connect, call_requeue

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


def _with_retries(task: Task, update: Callable[..., bool], call_id: int) -> bool:
    """Run ``update``; a provider that is down or overloaded is tried again with exponential backoff
    (2, 4, 8 … s, ``MAX_RETRIES`` times); a refusal is logged and not retried (a waiting call's next
    ``wait`` request bridges it all the same)."""
    try:
        return update(call_id=call_id)
    except CallUpdateFailed as error:
        if error.retryable and task.request.retries < MAX_RETRIES:
            raise task.retry(exc=error, countdown=2 ** (task.request.retries + 1)) from error
        logger.warning("Call %s not updated (%s): %s", call_id, task.name, error.message)
        return False


@shared_task(bind=True, name=CALL_CONNECT_TASK, acks_late=True, max_retries=MAX_RETRIES)
def voice_call_connect(self, call_id: int) -> bool:
    """Dial the agent who accepted on the waiting call."""
    return _with_retries(self, call_connect, call_id)


@shared_task(bind=True, name=CALL_REQUEUE_TASK, acks_late=True, max_retries=MAX_RETRIES)
def voice_call_requeue(self, call_id: int) -> bool:
    """Put a transferred call back into the provider's queue to wait for the next agent."""
    return _with_retries(self, call_requeue, call_id)
