"""The desk's side of web chats on ws/desktop/: the agent's typing and read receipts, the customer's shown.

Frames from the desk::

    {"action": "typing", "conversation": 7, "typing": true}   (relayed to the widget; false: stopped)
    {"action": "read", "conversation": 7, "up_to": 42}       (the agent has read up to message 42)

Only the agent handling the chat may send them (``desk_chat_conversation``: access across teams
first, then the handling agent, a web chat, not ended); a refusal is an error frame with
``action`` and ``conversation``. Neither has an answer frame: a read receipt that moved comes
back, like every change, as the push ``conversation.read`` (``reader: "agent"``).

Pushes to the desk, for a conversation whose messages it follows (``conversation_messages``,
access re-checked as for every push): ``{"type": "conversation.typing", "conversation", "typing"}``
when the customer types, ``{"type": "conversation.read", "conversation", "reader", "up_to",
"read_at"}`` when either side's read mark moves.
"""

from __future__ import annotations

import time

from cea.accounts.selectors import active_user
from cea.common.consumer_db import consumer_db
from cea.common.errors import ApplicationError, ValidationFailed
from engagement.context.consumers import MESSAGES, LiveContextConsumer
from engagement.conversations.models import ChatReader
from engagement.conversations.receipts import TYPING_EVERY_SECONDS, desk_chat_conversation, desk_chat_read, typing_event
from engagement.conversations.services import conversation_group

CHAT_ACTIONS = ("typing", "read")


def desk_typing_check(*, user_id: int, conversation_id: object) -> int:
    """The id of the chat the agent may send typing to (else the refusal of ``desk_chat_conversation``)."""
    return desk_chat_conversation(user=active_user(user_id=user_id), conversation_id=conversation_id).pk


def desk_read(*, user_id: int, conversation_id: object, up_to: object) -> bool:
    return desk_chat_read(user=active_user(user_id=user_id), conversation_id=conversation_id, up_to=up_to)


class DeskChatMixin(LiveContextConsumer):
    """Typing and read receipts for ``DesktopConsumer``, on top of live context and conversations."""

    typing_sent_at: dict[str, float]

    async def chat_action(self, action: str, content: dict) -> None:
        conversation_id = content.get("conversation")
        try:
            if action == "typing":
                await self._typing(conversation_id, content.get("typing", True))
            else:
                await consumer_db(desk_read)(
                    user_id=self.user_id, conversation_id=conversation_id, up_to=content.get("up_to")
                )
        except ApplicationError as refusal:
            detail = {"action": action, "conversation": conversation_id}
            if refusal.fields:
                detail["fields"] = refusal.fields
            await self.send_error(refusal.code, refusal.message, **detail)

    async def _typing(self, conversation_id: object, typing: object) -> None:
        if not isinstance(typing, bool):
            raise ValidationFailed("typing is true (typing) or false (stopped).", code="invalid_typing")
        if not hasattr(self, "typing_sent_at"):
            self.typing_sent_at = {}
        sent_at = self.typing_sent_at
        key = str(conversation_id)
        now = time.monotonic()
        if typing and now - sent_at.get(key, -TYPING_EVERY_SECONDS) < TYPING_EVERY_SECONDS:
            return  # throttled: the widget still shows the last pulse
        # The permission check is trusted for the consumer's recheck period, as for pushes.
        refusal = await self.refused_now(("typing", key), desk_typing_check, conversation_id=conversation_id)
        if refusal is not None:
            raise refusal
        sent_at[key] = now if typing else -TYPING_EVERY_SECONDS
        chat = int(key)
        await self.channel_layer.group_send(
            conversation_group(conversation_id=chat),
            typing_event(conversation_id=chat, who=ChatReader.AGENT, typing=typing),
        )

    # --- Pushes of the conversation's group -------------------------------------------------------

    async def conversation_typing(self, event: dict) -> None:
        conversation = event.get("conversation")
        if event.get("who") != ChatReader.CUSTOMER or conversation is None:
            return
        if await self.still_subscribed(MESSAGES, str(conversation)):
            await self.send_json(
                {"type": "conversation.typing", "conversation": conversation, "typing": event.get("typing") is True}
            )

    async def conversation_read(self, event: dict) -> None:
        conversation = event.get("conversation")
        if conversation is not None and await self.still_subscribed(MESSAGES, str(conversation)):
            await self.send_json(
                {
                    "type": "conversation.read",
                    "conversation": conversation,
                    "reader": event.get("reader"),
                    "up_to": event.get("up_to"),
                    "read_at": event.get("read_at"),
                }
            )
