"""Reads for web chat: a visitor's conversation and what the visitor may see of it.

A visitor sees the customer's, the agents' and self-service's messages of their own
conversation and the notices meant for them (a supervisor joined: ``CUSTOMER_NOTICES``; the
out-of-hours answer, with what it offers as ``offer``: ``out_of_hours_offer``); never
other system events, nor an internal message (a supervisor's whisper: ``Message.internal``, or
``payload["internal"]``), nor the payload of any message.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from cea.common.queries import one_or_none
from engagement.conversations.files import attachment_media_path
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.webchat.models import SiteKey

ENDED_CHAT_SHOWN_FOR = timedelta(hours=1)
VISIBLE_AUTHORS = (AuthorKind.CUSTOMER, AuthorKind.AGENT, AuthorKind.BOT)
# System events the customer is told about (their ``payload["event"]``).
CUSTOMER_NOTICES = ("participant_joined",)
HISTORY_PAGE = 200
# The marker of backoffice's out-of-hours answer (engagement.backoffice.out_of_hours): shown with its offer.
OUT_OF_HOURS = "out_of_hours"
CALLBACK_NEEDS_CUSTOMER = _(
    "We can only call back customers we know, and we do not know who you are in this chat: "
    "please leave us a message instead (or sign in on this site and chat again)."
)


def site_key_active(*, key: str) -> SiteKey | None:
    return one_or_none(SiteKey.objects.filter(key=key, is_active=True))


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
        author_kind == AuthorKind.SYSTEM and (payload.get("event") in CUSTOMER_NOTICES or OUT_OF_HOURS in payload)
    )


def out_of_hours_offer(*, payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the widget offers under an out-of-hours answer (its ``offer``), from the answer's marker.

    ``callback``: the token to book one through ``POST callbacks/offered/`` (``book_url``), or
    ``None`` with ``callback_unavailable`` saying why (CEA does not know who the visitor is: a
    Callback needs a customer). ``leave_message``: the chat stays open for a message answered at opening.
    """
    marker = (payload or {}).get(OUT_OF_HOURS)
    if not isinstance(marker, dict):
        return None
    token = marker.get("callback_token") or ""
    offer: dict[str, Any] = {
        "kind": OUT_OF_HOURS,
        "opens_at": marker.get("opens_at"),
        "leave_message": bool(marker.get("offer_message")),
        "callback": {"token": token, "book_url": reverse("engagement-api:callback-offered")} if token else None,
        "callback_unavailable": "",
    }
    if not token and marker.get("customer_known") is False:
        offer["callback_unavailable"] = str(CALLBACK_NEEDS_CUSTOMER)  # in the visitor's language
    return offer


def visitor_files(*, payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The files an agent sent with a message, as the widget links them: name, type, size and the
    signed link's path (``engagement.conversations.files``; the widget puts its CEA origin before it).
    The customer's own uploads carry no id and no link (the widget shows their names)."""
    entries = (payload or {}).get("attachments") or []
    # From the payload alone: the widget's socket calls this in its event loop, where no query runs.
    return [
        {
            "filename": str(entry.get("filename", "")),
            "content_type": str(entry.get("content_type", "")),
            "size": entry.get("size", 0),
            "url": attachment_media_path(entry["id"]),
        }
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("id"), int)
    ]


def visitor_message_json(*, message: dict[str, Any], client_id: str = "") -> dict[str, Any]:
    """A message as the widget gets it, from ``message_json``: no payload, no conversation internals.

    An out-of-hours answer carries its ``offer`` (``out_of_hours_offer``), never its payload; an
    agent's reply with files its ``attachments`` (``visitor_files``).
    """
    shown = {
        "id": message["id"],
        "author_kind": message["author_kind"],
        "author_name": message["author_name"],
        "body": message["body"],
        "sent_at": message["sent_at"],
    }
    offer = out_of_hours_offer(payload=message.get("payload"))
    if offer is not None:
        shown["offer"] = offer
    files = visitor_files(payload=message.get("payload"))
    if files:
        shown["attachments"] = files
    if client_id:
        shown["client_id"] = client_id
    return shown


def visitor_client_id(*, visitor: str, author_kind: str, external_id: str) -> str:
    """The widget's client id of one of ``visitor``'s own messages (its external id is
    ``"<visitor>:<client id>"``: ``webchat_message_receive``), or "" for any other message."""
    own_prefix = f"{visitor}:"
    if author_kind == AuthorKind.CUSTOMER and external_id.startswith(own_prefix):
        return external_id[len(own_prefix) :]
    return ""


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
    shown = []
    for row in rows[:limit]:
        if not visible_to_visitor(author_kind=row["author_kind"], payload=row["payload"], internal=row["internal"]):
            continue
        client_id = visitor_client_id(visitor=visitor, author_kind=row["author_kind"], external_id=row["external_id"])
        shown.append(visitor_message_json(message={**row, "sent_at": row["sent_at"].isoformat()}, client_id=client_id))
    return shown, more
