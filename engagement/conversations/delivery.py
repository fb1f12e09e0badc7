"""Delivering agents' replies that leave through a provider: email (and web form) replies, by a task."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from engagement.conversations.models import Message

logger = logging.getLogger("engagement.conversations.replies")


class Delivery:
    QUEUED = "queued"  # waiting for the email task
    SENT = "sent"
    LIVE = "live"  # pushed to the conversation's websocket group
    NOT_SENT = "not_sent"  # recorded; no provider send for this channel yet


@transaction.atomic
def email_reply_deliver(*, message_id: int) -> bool:
    """Send an email reply that is still queued; ``True`` if it was sent now.

    Idempotent: a reply already sent, or gone (erased), is not sent again. The message row is
    locked while sending, so two workers never both send it. A failure of the mail server
    raises (the task retries); the reply stays queued.
    """
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        logger.warning("Email reply %s not sent: the message no longer exists", message_id)
        return False
    payload = message.payload
    if payload.get("delivery") != Delivery.QUEUED:
        return False
    headers = {"Message-ID": f"<{payload['message_id']}>"}
    if payload.get("in_reply_to"):
        headers["In-Reply-To"] = " ".join(f"<{i}>" for i in payload["in_reply_to"])
    if payload.get("references"):
        headers["References"] = " ".join(f"<{i}>" for i in payload["references"])
    EmailMessage(
        subject=payload["subject"],
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[payload["to"]],
        headers=headers,
    ).send()
    message.payload = {**payload, "delivery": Delivery.SENT, "delivered_at": timezone.now().isoformat()}
    message.save(update_fields=["payload"])
    return True
