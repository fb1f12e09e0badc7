"""Celery tasks of the outbox: one message's delivery (sent on commit), and the sweep (beat).

Attempts and their schedule live in the message's row, not in Celery's retry state: a retry is
a new task sent with the countdown the attempt chose, and the sweep sends any message due whose
task was lost (a worker killed, a broker restarted). A duplicate task finds the message locked,
not due or finished, and does nothing.
"""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from integration.outbox.selectors import outbox_due
from integration.outbox.services import outbox_deliver_one

RETRY = database_retry(backoff_max=60)
# A retry's own task normally sends it on time; the sweep takes what is this late.
SWEEP_GRACE_SECONDS = 5


@shared_task(name="integration.outbox.deliver", **RETRY)
def outbox_deliver(message_id: int) -> str:
    """Deliver message ``message_id`` once; if it is to be retried, send the retry with its countdown."""
    outcome = outbox_deliver_one(message_id=message_id)
    if outcome.retry_in is not None:
        outbox_deliver.apply_async((message_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="integration.outbox.sweep", acks_late=True)
def sweep() -> int:
    """Send messages that are due but whose task went missing; the number sent."""
    due = outbox_due(grace_seconds=SWEEP_GRACE_SECONDS)
    for message_id in due:
        outbox_deliver.delay(message_id)
    return len(due)
