"""Celery tasks of back-office work: its priority recomputed as SLA due times near."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from engagement.backoffice.services import (
    REPRIORITISE_ONE_TASK,
    REPRIORITISE_TASK,
    backoffice_cancel_left,
    backoffice_reprioritise,
    backoffice_reprioritise_one,
)


@shared_task(name=REPRIORITISE_TASK, acks_late=True)
def reprioritise() -> int:
    """The beat's minute: waiting back-office work's priority from its SLA due time now; work whose
    conversation ended undone is cancelled."""
    backoffice_cancel_left()
    return backoffice_reprioritise()


@shared_task(name=REPRIORITISE_ONE_TASK, **database_retry(backoff_max=60))
def reprioritise_work(work_id: int) -> bool:
    """One new back-office work's priority, once its context (with the due time) is committed."""
    return backoffice_reprioritise_one(work_id=work_id)
