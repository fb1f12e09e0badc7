"""Celery tasks of personas: assign every customer (beat, daily) and discover clusters (beat, weekly)."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from insights.personas.services import personas_assign, personas_discover


@shared_task(name="insights.personas.assign", **database_retry(backoff_max=600))
def assign_personas() -> int:
    """Recompute every customer's persona; idempotent (only changes are written). Returns how many changed."""
    return personas_assign(actor=None).changed


@shared_task(name="insights.personas.discover", **database_retry(backoff_max=600))
def discover_personas(random_state: int = 0) -> int | None:
    """Cluster the customers and store a discovery run; returns its id (``None``: too few customers)."""
    run = personas_discover(random_state=random_state)
    return run.pk if run is not None else None
