"""Celery tasks of the web chat: answering a visitor's message after it was acknowledged, and the sweep
that answers one whose task was lost."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from engagement.webchat.services import ANSWER_TASK, webchat_answer, webchat_answers_sweep


@shared_task(name=ANSWER_TASK, **database_retry(backoff_max=30))
def answer(message_id: int, run_hooks: bool = False) -> int:
    """Self-service's answer to the visitor's message ``message_id`` (and any earlier one not
    answered yet); the customer-message hooks first with ``run_hooks``. Idempotent."""
    return webchat_answer(message_id=message_id, run_hooks=run_hooks)


@shared_task(name="engagement.webchat.answers_sweep", acks_late=True)
def answers_sweep() -> int:
    """Answer task sent again for each web chat message left unanswered (see ``webchat_answers_sweep``)."""
    return webchat_answers_sweep()
