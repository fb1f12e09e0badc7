"""Delivering an outbound SMS through the configured sender (``settings.CEA_SMS_SENDER``), by a task.

Email goes as agents' email replies do (``engagement.conversations.delivery.email_reply_deliver``).
"""

from __future__ import annotations

from django.db import transaction

from engagement.conversations.delivery import message_delivered, queued_message_locked
from engagement.idv.senders import sms_sender


@transaction.atomic
def sms_message_deliver(*, message_id: int) -> bool:
    """Send an outbound SMS message that is still queued; ``True`` if it was sent now.

    Idempotent: a message already sent, or gone, is not sent again; the row is locked while sending.
    A sender's ``SmsSendError`` is raised (the task retries a retryable one); the message stays queued.
    """
    message = queued_message_locked(message_id=message_id, what="SMS")
    if message is None:
        return False
    sms_sender().send(message.payload["to"], message.body)
    message_delivered(message=message)
    return True
