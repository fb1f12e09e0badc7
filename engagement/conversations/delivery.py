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
    QUEUED = "queued"  # waiting for the email task, or in a provider's outbox (engagement.adapters.outbox)
    SENT = "sent"
    DELIVERED = "delivered"  # a provider's receipt: on the handset
    READ = "read"
    FAILED = "failed"  # a provider refused it or could not deliver it (the payload's ``error`` says why)
    LIVE = "live"  # pushed to the conversation's websocket group
    NOT_SENT = "not_sent"  # recorded; no provider send for this channel yet


def queued_message_locked(*, message_id: int, what: str) -> Message | None:
    """The message ``message_id``, locked, if it is still queued for delivery; ``None`` when it is gone
    (logged, as ``what``) or already delivered. Call in a transaction: the lock is held until it ends,
    so two workers never both send it."""
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        logger.warning("%s %s not sent: the message no longer exists", what, message_id)
        return None
    return message if message.payload.get("delivery") == Delivery.QUEUED else None


def message_delivered(*, message: Message) -> None:
    """Mark a locked, queued message sent, with when."""
    message.payload = {**message.payload, "delivery": Delivery.SENT, "delivered_at": timezone.now().isoformat()}
    message.save(update_fields=["payload"])


@transaction.atomic
def email_reply_deliver(*, message_id: int) -> bool:
    """Send an email reply that is still queued; ``True`` if it was sent now.

    Idempotent: a reply already sent, or gone (erased), is not sent again. The message row is
    locked while sending, so two workers never both send it. A failure of the mail server
    raises (the task retries); the reply stays queued. The reply's files go as MIME attachments.
    """
    message = queued_message_locked(message_id=message_id, what="Email reply")
    if message is None:
        return False
    payload = message.payload
    headers = {"Message-ID": f"<{payload['message_id']}>"}
    if payload.get("in_reply_to"):
        headers["In-Reply-To"] = " ".join(f"<{i}>" for i in payload["in_reply_to"])
    if payload.get("references"):
        headers["References"] = " ".join(f"<{i}>" for i in payload["references"])
    if payload.get("auto_submitted"):
        headers["Auto-Submitted"] = payload["auto_submitted"]
    email = EmailMessage(
        subject=payload["subject"],
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[payload["to"]],
        headers=headers,
    )
    for attachment in message.attachments.order_by("id"):
        with attachment.file.open("rb") as file:
            email.attach(attachment.filename, file.read(), attachment.content_type or "application/octet-stream")
    email.send()
    message_delivered(message=message)
    return True
