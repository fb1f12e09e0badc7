"""Celery tasks of conversations: delivering agents' email replies, removing their stale draft files."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from engagement.conversations.delivery import email_reply_deliver
from engagement.conversations.files import attachment_drafts_remove


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


@shared_task(name="engagement.conversations.remove_draft_attachments")
def remove_draft_attachments() -> int:
    """Remove agents' draft attachments older than a day (the beat, hourly); how many."""
    return attachment_drafts_remove()
