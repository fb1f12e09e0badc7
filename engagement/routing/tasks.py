"""Celery tasks of routing. Each is one idempotent pass: running it twice makes no second offer."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from engagement.routing import engine

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="engagement.routing.route_queue", **RETRY)
def route_queue(queue_id: int) -> int:
    """Offer the queue's waiting work to free agents; returns the offers made."""
    return engine.dispatch_queue(queue_id)


@shared_task(name="engagement.routing.route_agent", **RETRY)
def route_agent(agent_id: int) -> bool:
    """Offer a free agent the best work they match."""
    return engine.route_agent(agent_id) is not None


@shared_task(name="engagement.routing.sweep", acks_late=True)
def sweep() -> dict:
    return engine.routing_sweep()
