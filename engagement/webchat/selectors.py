"""Reads for web chat: a visitor's conversation and what the visitor may see of it.

A visitor sees the customer's, the agents' and self-service's messages of their own
conversation and the notices meant for them (a supervisor joined: ``CUSTOMER_NOTICES``); never
other system events, nor an internal message (a supervisor's whisper: ``Message.internal``, or
``payload["internal"]``), nor the payload of any message.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from cea.common.channels import Channel
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.webchat.models import SiteKey

ENDED_CHAT_SHOWN_FOR = timedelta(hours=1)
VISIBLE_AUTHORS = (AuthorKind.CUSTOMER, AuthorKind.AGENT, AuthorKind.BOT)
# System events the customer is told about (their ``payload["event"]``).
CUSTOMER_NOTICES = ("participant_joined",)
HISTORY_PAGE = 200


def site_key_active(*, key: str) -> SiteKey | None:
    return SiteKey.objects.filter(key=key, is_active=True).first()


def visitor_conversation_latest(*, visitor: str) -> Conversation | None:
    return Conversation.objects.filter(channel=Channel.CHAT, visitor=visitor).order_by("-id").first()


def visitor_conversation_current(*, visitor: str) -> Conversation | None:
    """The visitor's open conversation, or the last one if it ended within the hour (to show its end)."""
    latest = visitor_conversation_latest(visitor=visitor)
    if latest is None or latest.status != ConversationStatus.ENDED:
        return latest
    if latest.ended_at is not None and latest.ended_at >= timezone.now() - ENDED_CHAT_SHOWN_FOR:
        return latest
    return None


def visible_to_visitor(*, author_kind: str, payload: dict[str, Any] | None, internal: bool = False) -> bool:
    payload = payload or {}
    if internal or payload.get("internal"):
        return False
    return author_kind in VISIBLE_AUTHORS or (
        author_kind == AuthorKind.SYSTEM and payload.get("event") in CUSTOMER_NOTICES
    )


def visitor_message_json(*, message: dict[str, Any], client_id: str = "") -> dict[str, Any]:
    """A message as the widget gets it, from ``message_json``: no payload, no conversation internals."""
    shown = {
        "id": message["id"],
        "author_kind": message["author_kind"],
        "author_name": message["author_name"],
        "body": message["body"],
        "sent_at": message["sent_at"],
    }
    if client_id:
        shown["client_id"] = client_id
    return shown


def visitor_messages_after(
    *, conversation_id: int, visitor: str, after: int, limit: int = HISTORY_PAGE
) -> tuple[list[dict[str, Any]], bool]:
    """The messages the visitor may see with an id above ``after``, oldest first, and whether more follow.

    The visitor's own messages carry the ``client_id`` they were sent with, so that a widget
    which lost an acknowledgement recognises its message.
    """
    rows = list(
        Message.objects.filter(conversation_id=conversation_id, conversation__visitor=visitor, id__gt=after)
        .order_by("id")
        .values("id", "author_kind", "author_name", "body", "sent_at", "payload", "internal", "external_id")[
            : limit + 1
        ]
    )
    more = len(rows) > limit
    own_prefix = f"{visitor}:"
    shown = []
    for row in rows[:limit]:
        if not visible_to_visitor(author_kind=row["author_kind"], payload=row["payload"], internal=row["internal"]):
            continue
        client_id = ""
        if row["author_kind"] == AuthorKind.CUSTOMER and row["external_id"].startswith(own_prefix):
            client_id = row["external_id"][len(own_prefix) :]
        shown.append(visitor_message_json(message={**row, "sent_at": row["sent_at"].isoformat()}, client_id=client_id))
    return shown, more
