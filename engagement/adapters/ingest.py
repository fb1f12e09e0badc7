"""What every channel adapter shares: the result of an ingest, duplicates, sender threads, queues.

Adapters call these inside their own transaction (each adapter service is atomic), so an
ingest is all or nothing: a conversation is never opened for a message that is not kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from engagement.conversations.models import Conversation, ConversationStatus, Message
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from records.identities.normalise import normalise

# The queue a channel's conversations wait in when nothing more specific is configured; these
# channels have no self-service, so their conversations go straight to the agents.
DEFAULT_QUEUES = {
    Channel.EMAIL: "Email",
    Channel.SMS: "SMS",
    Channel.SOCIAL: "Social DM",
    Channel.WEB_FORM: "Web form",
    Channel.MOBILE_APP: "Mobile app",
    Channel.IOT: "Proactive",
}


@dataclass(frozen=True)
class Ingested:
    """One native payload turned into a message; ``created`` is ``False`` for a duplicate delivery."""

    conversation: Conversation
    message: Message
    created: bool


def already_ingested(*, channels: list[str] | tuple[str, ...], external_id: str) -> Ingested | None:
    """The earlier delivery of this message, if any: a duplicate changes nothing."""
    message = (
        Message.objects.select_related("conversation").filter(channel__in=channels, external_id=external_id).first()
    )
    if message is None:
        return None
    return Ingested(conversation=message.conversation, message=message, created=False)


def open_thread(*, channel: str, thread_key: str, **start) -> tuple[Conversation, bool]:
    """The open conversation of a sender's thread, or a new one; returns ``(conversation, created)``.

    A thread's conversations have the external ids ``<thread_key>:1``, ``<thread_key>:2`` …: a
    new one starts once the previous one has ended. The number is derived, not random, so two
    first messages from the same sender arriving at the same instant compute the same id and
    the unique ``(channel, external_id)`` constraint makes them share one conversation instead
    of opening two. Locks the open conversation (``select_for_update``) so that it cannot end
    between being found and receiving the message.
    """
    threads = Conversation.objects.filter(channel=channel, external_id__regex=rf"^{re.escape(thread_key)}:[0-9]+$")
    current = threads.exclude(status=ConversationStatus.ENDED).select_for_update().order_by("-id").first()
    if current is not None:
        return current, False
    return conversation_start(channel=channel, external_id=f"{thread_key}:{threads.count() + 1}", **start)


def queue_for_agents(*, conversation: Conversation, queue: str, reason: str) -> Conversation:
    """Put a new conversation of a channel without self-service in an agents' queue."""
    return conversation_escalate(conversation=conversation, queue=queue, reason=reason)


def normalised_identifier(kind: str, value: str, *, field: str) -> str:
    """``value`` as records stores an identifier of ``kind``; a malformed one is a field error."""
    try:
        stored, _ = normalise(kind, value)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={field: exc.message}) from None
    return stored
