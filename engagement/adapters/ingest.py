"""The ingest every channel adapter shares: one delivery in, one message kept, all or nothing.

An adapter reads its native payload and calls ``delivery_ingest`` with what differs between
channels (the message's external id, how to find or open its conversation, the agents' queue,
the message's text, author and payload, and anything the channel adds afterwards). The
skeleton is the same for all: a duplicate delivery changes nothing, a new conversation of a
channel without self-service waits in an agents' queue, the message is added, and all of it
happens in one transaction, so a conversation is never opened for a message that is not kept.

The adapters call the conversations layer's services only through this module (one import
below, re-exported in ``__all__``), so a service that moves is found again in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Required, TypedDict, Unpack

from django.db import transaction

from cea.common.channels import Channel, Direction
from cea.common.errors import ValidationFailed
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message

# The conversations layer's services and the hand-offs above it, for all the adapters.
from engagement.conversations.selectors import identify_contact
from engagement.conversations.services import conversation_start, message_add
from engagement.orchestration import conversation_end, conversation_escalate
from records.identities.normalise import normalise

# Besides its own, the conversation services and hand-offs that adapters call themselves: to open a
# conversation of their own (``conversation_start``), identify a sender, end a call.
__all__ = [
    "DEFAULT_QUEUES",
    "ConversationOpener",
    "InboundMessage",
    "Ingested",
    "conversation_end",
    "conversation_start",
    "delivery_ingest",
    "identify_contact",
    "normalised_identifier",
    "open_thread",
]

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


# Finds or opens the conversation a delivery goes to: ``(conversation, opened)``.
ConversationOpener = Callable[[], tuple[Conversation, bool]]


class InboundMessage(TypedDict, total=False):
    """The message a delivery adds: ``message_add``'s arguments besides the conversation, the
    direction (inbound) and the external id. ``author_kind`` is the customer unless given."""

    body: Required[str]
    sent_at: Required[datetime | None]
    payload: Required[dict]
    author_kind: str
    author_name: str


@transaction.atomic
def delivery_ingest(
    *,
    channels: Sequence[str],
    external_id: str,
    conversation: ConversationOpener,
    queue: str = "",
    queue_reason: str = "",
    after: Callable[[Ingested], None] | None = None,
    **inbound: Unpack[InboundMessage],
) -> Ingested:
    """Keep one delivery's inbound message in one transaction; a duplicate delivery changes nothing.

    1. A message with ``external_id`` already kept on one of ``channels`` makes this delivery a
       duplicate: that message is returned (``created=False``) and nothing else runs.
    2. ``conversation()`` finds or opens the conversation (``open_thread``, ``conversation_start``
       or the adapter's own way); it may refuse the delivery by raising an ``ApplicationError``.
    3. A conversation it opened is handed to the agents' ``queue`` (``conversation_escalate``
       with ``queue_reason``) when a queue is given.
    4. The message (``inbound``: body, sent_at, payload, author) is added inbound with
       ``external_id`` (``message_add``).
    5. ``after(ingested)`` does what the channel adds (attachments, context, call state); it runs
       for every delivery that is not a duplicate, inside the transaction.

    An error at any step rolls back all of them.
    """
    duplicate = _already_ingested(channels=channels, external_id=external_id)
    if duplicate is not None:
        return duplicate
    found, opened = conversation()
    if opened and queue:
        found = conversation_escalate(conversation=found, queue=queue, reason=queue_reason)
    inbound.setdefault("author_kind", AuthorKind.CUSTOMER)
    message, created = message_add(conversation=found, direction=Direction.INBOUND, external_id=external_id, **inbound)
    ingested = Ingested(conversation=found, message=message, created=created)
    if after is not None:
        after(ingested)
    return ingested


def _already_ingested(*, channels: Sequence[str], external_id: str) -> Ingested | None:
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


def normalised_identifier(kind: str, value: str, *, field: str) -> str:
    """``value`` as records stores an identifier of ``kind``; a malformed one is a field error."""
    try:
        stored, _ = normalise(kind, value)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={field: exc.message}) from None
    return stored
