"""Read receipts and typing indicators of web chats, both ways (the widget ⇄ the desk).

Below both the widget (engagement/webchat) and the desk (engagement/desktop), which are siblings
that may not import each other. The table is ``engagement.conversations.models.ChatReadMark``.

- **Read receipts** are kept (``ChatReadMark``: one row per conversation and side, the last message
  id read and when) and pushed to the conversation's group after commit as ``conversation.read``
  ``{"conversation", "reader", "up_to", "read_at"}``. A mark only moves forward: a receipt for an
  earlier message, arriving late or twice, changes nothing and pushes nothing.
- **Typing** is never stored: the sockets relay it to the conversation's group at once as
  ``conversation.typing`` ``{"conversation", "who", "typing"}``, throttled per connection
  (``TYPING_EVERY_SECONDS``; a "stopped typing" always goes through).

The customer reads through the widget (their own conversation, by its visitor token); the agent
through the desk, and only the agent handling the chat: a supervisor watching it does not tell
the customer their messages were read, nor that someone is typing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.live import push_on_commit
from cea.common.queries import one_or_none
from engagement.access import access_conversation
from engagement.conversations.models import ChatReader, ChatReadMark, Conversation, ConversationStatus, Message
from engagement.conversations.services import conversation_group

# A typing pulse is relayed at most this often per connection; the other side shows "typing…"
# for TYPING_SHOWN_SECONDS after the last pulse (the widget and the desk's script use it).
TYPING_EVERY_SECONDS = 2.0
TYPING_SHOWN_SECONDS = 6

# ChatReadMark's table: one statement inserts or moves the mark forward, so two receipts at once
# (two tabs) cannot move it backwards nor collide on the unique constraint.
_MOVE_FORWARD = """
INSERT INTO engagement_chatreadmark (conversation_id, reader, up_to, read_at)
VALUES (%s, %s, %s, %s)
ON CONFLICT (conversation_id, reader) DO UPDATE SET up_to = EXCLUDED.up_to, read_at = EXCLUDED.read_at
WHERE engagement_chatreadmark.up_to < EXCLUDED.up_to
RETURNING id
"""


def read_mark_json(*, conversation_id: int, reader: str, up_to: int, read_at: datetime) -> dict[str, Any]:
    return {"conversation": conversation_id, "reader": reader, "up_to": up_to, "read_at": read_at.isoformat()}


def message_id_of(value: object) -> int:
    """``value`` as a message id, or ``ValidationFailed`` (``invalid_up_to``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValidationFailed(
            "up_to is the id of the last message read.", code="invalid_up_to", fields={"up_to": "A message id."}
        )
    return value


@transaction.atomic
def chat_read_mark(*, conversation: Conversation, reader: str, up_to: int) -> bool:
    """Record that ``reader`` has read ``conversation`` up to message ``up_to``; ``True`` when it moved.

    ``up_to`` must be a message of the conversation (``ValidationFailed`` ``unknown_message``); for
    the customer, one they can see (not a supervisor's whisper). A mark that moved is pushed to the
    conversation's group after commit.
    """
    if reader not in ChatReader.values:
        raise ValidationFailed(f"Unknown reader {reader!r}.", code="invalid_reader")
    messages = Message.objects.filter(conversation=conversation, pk=up_to)
    if reader == ChatReader.CUSTOMER:
        messages = messages.filter(internal=False)
    if not messages.exists():
        raise ValidationFailed(
            f"Conversation {conversation.pk} has no message {up_to}.",
            code="unknown_message",
            fields={"up_to": "Not a message of this chat."},
        )
    read_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_FORWARD, [conversation.pk, reader, up_to, read_at])
        moved = cursor.fetchone() is not None
    if moved:
        push_on_commit(
            conversation_group(conversation_id=conversation.pk),
            {
                "type": "conversation.read",
                **read_mark_json(conversation_id=conversation.pk, reader=reader, up_to=up_to, read_at=read_at),
            },
        )
    return moved


def chat_read_marks(*, conversation_id: int) -> dict[str, dict[str, Any]]:
    """Each side's read mark of a conversation, by reader (a side that has read nothing is absent)."""
    return {
        mark.reader: read_mark_json(
            conversation_id=conversation_id, reader=mark.reader, up_to=mark.up_to, read_at=mark.read_at
        )
        for mark in ChatReadMark.objects.filter(conversation_id=conversation_id)
    }


def desk_chat_conversation(*, user, conversation_id: object) -> Conversation:
    """The chat ``user`` handles, for a read receipt or a typing pulse from the desk.

    ``access_conversation`` first (``NotFound``, ``PermissionDenied`` across teams); then only the
    agent handling the chat (``PermissionDenied`` ``not_handling_agent``), on a web chat
    (``ValidationFailed`` ``not_a_chat``) that has not ended (``Conflict`` ``conversation_ended``).
    """
    conversation = access_conversation(user, conversation_id)
    if conversation.agent_id != user.pk:
        raise PermissionDenied(
            "Only the agent handling this chat sends read receipts and typing.", code="not_handling_agent"
        )
    if conversation.channel != Channel.CHAT:
        raise ValidationFailed("Read receipts and typing are for web chats.", code="not_a_chat")
    if conversation.status == ConversationStatus.ENDED:
        raise Conflict(f"Conversation {conversation.pk} has ended.", code="conversation_ended")
    return conversation


def desk_chat_read(*, user, conversation_id: object, up_to: object) -> bool:
    """The agent has read the chat up to message ``up_to`` (see ``desk_chat_conversation``)."""
    message_id = message_id_of(up_to)
    conversation = desk_chat_conversation(user=user, conversation_id=conversation_id)
    return chat_read_mark(conversation=conversation, reader=ChatReader.AGENT, up_to=message_id)


def typing_event(*, conversation_id: int, who: str, typing: bool) -> dict[str, Any]:
    return {"type": "conversation.typing", "conversation": conversation_id, "who": who, "typing": typing}


def webchat_read(*, visitor: str, conversation_id: int, up_to: object) -> bool:
    """The visitor has read their chat up to message ``up_to`` (a message they can see)."""
    message_id = message_id_of(up_to)
    conversation = one_or_none(Conversation.objects.filter(pk=conversation_id, visitor=visitor, channel=Channel.CHAT))
    if conversation is None:  # erased (or never the visitor's): an error frame, not a dropped socket
        raise NotFound("This chat no longer exists.", code="no_conversation")
    return chat_read_mark(conversation=conversation, reader=ChatReader.CUSTOMER, up_to=message_id)
