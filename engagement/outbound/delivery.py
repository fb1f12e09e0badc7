"""Delivering an outbound SMS through the configured sender (``settings.CEA_SMS_SENDER``), by a task.

Email goes as agents' email replies do (``engagement.conversations.delivery.email_reply_deliver``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from engagement.conversations.delivery import Delivery
from engagement.conversations.models import Message
from engagement.idv.senders import sms_sender

logger = logging.getLogger("engagement.outbound.delivery")


@transaction.atomic
def sms_message_deliver(*, message_id: int) -> bool:
    """Send an outbound SMS message that is still queued; ``True`` if it was sent now.

    Idempotent: a message already sent, or gone, is not sent again; the row is locked while sending.
    A sender's ``SmsSendError`` is raised (the task retries a retryable one); the message stays queued.
    """
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        logger.warning("SMS %s not sent: the message no longer exists", message_id)
        return False
    payload = message.payload
    if payload.get("delivery") != Delivery.QUEUED:
        return False
    sms_sender().send(payload["to"], message.body)
    message.payload = {**payload, "delivery": Delivery.SENT, "delivered_at": timezone.now().isoformat()}
    message.save(update_fields=["payload"])
    return True
