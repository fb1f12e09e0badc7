"""Celery tasks of the System of Engagement. Tasks take ids, are idempotent and retry with backoff."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from engagement.conversations.replies import email_reply_deliver

# --- Conversations: outbound replies --------------------------------------------------------


@shared_task(
    name="engagement.conversations.deliver_email_reply",
    acks_late=True,
    # OSError covers smtplib.SMTPException and refused or dropped connections to the mail server.
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_email_reply(message_id: int) -> bool:
    """Send the email reply ``message_id`` if it is still queued (sent replies are not sent twice)."""
    return email_reply_deliver(message_id=message_id)


# --- ID&V: one-time passcodes ---------------------------------------------------------------
# The task lives in engagement/idv/tasks.py; importing it here is what makes the worker (which
# discovers `<app>.tasks` modules) register it.
from engagement.idv.tasks import send_verification_code  # noqa: E402, F401
from engagement.routing.tasks import route_agent, route_queue, sweep  # noqa: E402, F401
