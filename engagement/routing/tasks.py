"""Celery tasks of routing. Each is one idempotent pass: running it twice makes no second offer.

``kick_on_commit`` (``routing/work.py``) sends the first two by their names.
"""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from engagement.routing import engine
from engagement.routing.sweep import routing_sweep
from engagement.routing.work import ROUTE_AGENT_TASK, ROUTE_QUEUE_TASK

RETRY = database_retry(backoff_max=30)


@shared_task(name=ROUTE_QUEUE_TASK, **RETRY)
def route_queue(queue_id: int) -> int:
    """Offer the queue's waiting work to free agents; returns the offers made."""
    return engine.dispatch_queue(queue_id)


@shared_task(name=ROUTE_AGENT_TASK, **RETRY)
def route_agent(agent_id: int) -> bool:
    """Offer a free agent the best work they match."""
    return engine.route_agent(agent_id) is not None


@shared_task(name="engagement.routing.sweep", acks_late=True)
def sweep() -> dict:
    return routing_sweep()
