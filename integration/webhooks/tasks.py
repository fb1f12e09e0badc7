"""Celery tasks of outbound webhooks: the relay (beat), one delivery's attempt, and the sweep (beat).

Attempts and their schedule live in the database (``WebhookDelivery.next_attempt_at``), not in
Celery's retry state: a retry is a new task sent with the countdown the attempt chose, and the
sweep sends any delivery whose task was lost. A duplicate task finds the delivery locked, not
due or finished, and does nothing.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from cea.common.tasks import database_retry
from integration.webhooks.selectors import webhook_deliveries_due
from integration.webhooks.services import webhook_delivery_attempt, webhook_relay

RETRY = database_retry(backoff_max=60)
# A retry's own task normally sends it on time; the sweep takes what is this late.
SWEEP_GRACE_SECONDS = 15


# Batches one run may relay when it is behind (a burst of changes), before leaving the rest to the next run.
RELAY_BATCHES_PER_RUN = 20


@shared_task(name="integration.webhooks.relay", **RETRY)
def relay() -> int:
    """Turn new journey events into deliveries (sent on commit), batch after batch while behind; the number made."""
    made = 0
    for _ in range(RELAY_BATCHES_PER_RUN):
        result = webhook_relay()
        if result is None:
            break
        made += result.deliveries_created
        if result.events_read < settings.CEA_WEBHOOK_RELAY_BATCH:
            break
    return made


@shared_task(name="integration.webhooks.deliver", **RETRY)
def webhook_deliver(delivery_id: int) -> str:
    """Attempt delivery ``delivery_id`` once; if it is to be retried, send the retry with its countdown."""
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        webhook_deliver.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="integration.webhooks.sweep", acks_late=True)
def sweep() -> int:
    """Send deliveries that are due but whose task went missing; the number sent."""
    due = webhook_deliveries_due(grace_seconds=SWEEP_GRACE_SECONDS)
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return len(due)
