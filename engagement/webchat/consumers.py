"""The web chat widget's websocket: ``ws/webchat/?site_key=…&visitor=<token>&page=<url>``.

A public route (no session, no allowed-hosts check: the widget runs on customers' sites), so
the consumer checks the site key and the Origin header itself; refused connections get an
error frame and close code 4403. Anonymous traffic is limited per client address
(``cea.common.client_ip``) and per site key (engagement/webchat/limits.py): a connection beyond
the connections open at once gets the error ``too_many_connections`` and close code 4429 (the
widget tries again later); a first message beyond the new conversations a minute gets the error
``too_many_conversations`` with ``client_id`` and ``retry_after`` (seconds), and the socket stays open.

Frames from the widget::

    {"type": "message", "client_id": "c-1", "body": "Hello"}  → {"type": "ack", "client_id", "id", "conversation"}
    {"type": "resume", "after": 41}                           → {"type": "history", "messages": [...], "more", ...}
    {"type": "end"}                                           (the visitor ends the chat)
    {"type": "restart"}                                       (after an end: the next message opens a new chat)
    {"type": "ping"}                                          → {"type": "pong"}
    {"type": "typing", "typing": true}                        (the visitor is typing; false: stopped)
    {"type": "read", "up_to": 42}                             (the visitor has read up to message 42)

Frames from the server: ``welcome`` (once, with the visitor token to keep), ``message``
(``{"id", "author_kind", "author_name", "body", "sent_at"}``), ``status`` (``self_service``,
``queued``, ``active``, ``ended``), ``survey`` (after the end, when a survey is asked: ``{"kind",
"question", "scale": [low, high], "answer_url"}``; the widget posts the answer to ``answer_url``),
``error`` (``{"code", "message", "client_id"?}``), ``typing`` (``{"typing": bool}``: the agent is
typing, or stopped), ``read`` (``{"up_to", "read_at"}``: the agent has read up to that message; also
sent after a ``history`` when the agent has read something). Typing is relayed, never stored, and
throttled (engagement/conversations/receipts.py); read receipts are kept and only move forward.

No message is lost across a network drop: the widget resends unacknowledged messages with
the same ``client_id`` (stored once) and asks for what it missed with ``resume``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext

from cea.common.client_ip import scope_client_ip
from cea.common.consumer_db import consumer_db
from cea.common.errors import ApplicationError
from cea.common.translations import supported_language
from engagement.consumers import CLOSE_FLOODING, CLOSE_FORBIDDEN, EngagementJsonConsumer, TokenBucket
from engagement.conversations.models import ChatReader, ConversationStatus
from engagement.conversations.receipts import TYPING_EVERY_SECONDS, chat_read_marks, typing_event, webchat_read
from engagement.conversations.services import conversation_group
from engagement.webchat.limits import KEEP_EVERY_SECONDS, WebchatLimitReached, webchat_connection_keep
from engagement.webchat.selectors import (
    visible_to_visitor,
    visitor_client_id,
    visitor_conversation_latest,
    visitor_message_json,
    visitor_messages_after,
)
from engagement.webchat.services import (
    MAX_BODY_CHARS,
    WebchatSession,
    webchat_after_customer_message,
    webchat_conversation_end,
    webchat_conversation_open,
    webchat_message_check,
    webchat_message_receive,
    webchat_session_close,
    webchat_session_open,
)

logger = logging.getLogger("engagement.webchat")


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class WebchatConsumer(EngagementJsonConsumer):
    # A person types a few messages a minute; a burst covers the resend of queued messages
    # after a reconnect.
    message_burst: float = 10
    messages_per_second: float = 0.5

    @cached_property
    def language(self) -> str:
        """The host page's language, which the widget sends (``lang=``), else the browser's."""
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return supported_language(params.get("lang", [""])[0] or _header(self.scope, b"accept-language"))

    async def dispatch(self, message) -> None:
        # What the visitor reads (errors, answers written while handling a frame) in that language.
        with translation.override(self.language):
            await super().dispatch(message)

    async def connect(self) -> None:
        self.session: WebchatSession | None = None
        self.keeper: asyncio.Task | None = None
        self.conversation_id: int | None = None
        self.typing_sent_at = 0.0
        self.messages = TokenBucket(self.message_burst, self.messages_per_second)
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        site_key = params.get("site_key", [""])[0]
        origin = _header(self.scope, b"origin")
        ip = scope_client_ip(self.scope)
        try:
            self.session = await consumer_db(webchat_session_open)(
                site_key=site_key,
                origin=origin,
                ip=ip,
                connection=self.channel_name,
                token=params.get("visitor", [""])[0],
                page=params.get("page", [""])[0],
            )
        except WebchatLimitReached as refusal:
            logger.warning("Web chat connection refused (%s): site key %r, address %s", refusal.code, site_key, ip)
            await self.refuse(CLOSE_FLOODING, refusal.code, refusal.message)
            return
        except ApplicationError as refusal:
            logger.warning("Web chat connection refused (%s): site key %r, origin %r", refusal.code, site_key, origin)
            await self.refuse(CLOSE_FORBIDDEN, refusal.code, refusal.message)
            return
        self.keeper = asyncio.create_task(self._keep_place())
        conversation = self.session.conversation
        if conversation is not None:
            await self._follow(conversation.pk)
        await self.accept()
        self.let_in = True
        await self.send_json(
            {
                "type": "welcome",
                "visitor": self.session.token,
                "conversation": self.conversation_id,
                "status": conversation.status if conversation else None,
                "site": self.session.site.name,
                "greeting": self.session.site.greeting,
                "max_body": MAX_BODY_CHARS,
            }
        )

    async def disconnect(self, code) -> None:
        if self.conversation_id is not None:
            await self.channel_layer.group_discard(
                conversation_group(conversation_id=self.conversation_id), self.channel_name
            )
        if self.keeper is not None:
            self.keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.keeper
        if self.session is not None:
            await sync_to_async(webchat_session_close, thread_sensitive=False)(session=self.session)

    async def _keep_place(self) -> None:
        """Renew the connection's place in the limits while it is open (a dead process's lapses)."""
        while True:
            await asyncio.sleep(KEEP_EVERY_SECONDS)
            try:
                await sync_to_async(webchat_connection_keep, thread_sensitive=False)(
                    site_key=self.session.site.key, ip=self.session.ip, connection=self.session.connection
                )
            except Exception:  # Redis away for a moment: the next round tries again
                logger.warning("Web chat: the connection's place could not be renewed", exc_info=True)

    async def _follow(self, conversation_id: int) -> None:
        if self.conversation_id == conversation_id:
            return
        if self.conversation_id is not None:
            await self.channel_layer.group_discard(
                conversation_group(conversation_id=self.conversation_id), self.channel_name
            )
        self.conversation_id = conversation_id
        await self.channel_layer.group_add(conversation_group(conversation_id=conversation_id), self.channel_name)

    # --- Frames from the widget -----------------------------------------------------------

    async def receive_json(self, content: dict, **kwargs) -> None:
        handlers = {
            "message": self.on_message,
            "resume": self.on_resume,
            "end": self.on_end,
            "restart": self.on_restart,
            "ping": self.on_ping,
            "typing": self.on_typing,
            "read": self.on_read,
        }
        kind = content.get("type")
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.send_error("unknown_type", f"Frame types: {', '.join(handlers)}.")
            return
        await handler(content)

    async def on_message(self, content: dict) -> None:
        client_id = content.get("client_id")
        if not self.messages.take():
            await self.send_error(
                "rate_limited",
                "You are sending messages too quickly; this one will be sent in a moment.",
                client_id=client_id,
                retry_after=round(self.messages.seconds_until_next(), 1),
            )
            return
        try:
            webchat_message_check(client_id=client_id, body=content.get("body"))
            if self.conversation_id is None:
                conversation = await consumer_db(webchat_conversation_open)(session=self.session)
                # Follow the conversation before the message goes in, so no reply can be missed.
                await self._follow(conversation.pk)
            message, created = await consumer_db(webchat_message_receive)(
                session=self.session,
                conversation_id=self.conversation_id,
                client_id=client_id,
                body=content.get("body"),
                defer_hooks=True,
            )
        except WebchatLimitReached as refusal:
            await self.send_error(refusal.code, refusal.message, client_id=client_id, retry_after=refusal.retry_after)
            return
        except ApplicationError as refusal:
            await self.send_error(refusal.code, refusal.message, client_id=client_id)
            return
        await self.send_json(
            {"type": "ack", "client_id": client_id, "id": message.pk, "conversation": message.conversation_id}
        )
        # After the ack: the customer-message hooks (sentiment) and self-service's answer, sent to a worker.
        await consumer_db(webchat_after_customer_message)(message=message, run_hooks=created)

    async def on_resume(self, content: dict) -> None:
        after = content.get("after", 0)
        if not _is_whole_number(after):
            await self.send_error("invalid_after", "after is the id of the last message seen (0 for all).")
            return
        messages, more = [], False
        if self.conversation_id is not None:
            messages, more = await consumer_db(visitor_messages_after)(
                conversation_id=self.conversation_id, visitor=self.session.visitor, after=after
            )
        await self.send_json(
            {
                "type": "history",
                "conversation": self.conversation_id,
                "after": after,
                "messages": messages,
                "more": more,
            }
        )

        if self.conversation_id is not None:
            marks = await consumer_db(chat_read_marks)(conversation_id=self.conversation_id)
            if ChatReader.AGENT in marks:
                agent_read = marks[ChatReader.AGENT]
                await self.send_json({"type": "read", "up_to": agent_read["up_to"], "read_at": agent_read["read_at"]})

    async def on_typing(self, content: dict) -> None:
        """Relay the visitor's typing to the desk: at most every ``TYPING_EVERY_SECONDS``; a stop always."""
        typing = content.get("typing", True)
        if not isinstance(typing, bool):
            await self.send_error("invalid_typing", "typing is true (typing) or false (stopped).")
            return
        if self.conversation_id is None:
            return  # nobody to tell before the first message
        now = time.monotonic()
        if typing and now - self.typing_sent_at < TYPING_EVERY_SECONDS:
            return
        self.typing_sent_at = now if typing else 0.0
        await self.channel_layer.group_send(
            conversation_group(conversation_id=self.conversation_id),
            typing_event(conversation_id=self.conversation_id, who=ChatReader.CUSTOMER, typing=typing),
        )

    async def on_read(self, content: dict) -> None:
        if self.conversation_id is None:
            await self.send_error("no_conversation", gettext("There is no chat to read."))
            return
        try:
            await consumer_db(webchat_read)(
                visitor=self.session.visitor, conversation_id=self.conversation_id, up_to=content.get("up_to")
            )
        except ApplicationError as refusal:
            await self.send_error(refusal.code, refusal.message)

    async def on_end(self, content: dict) -> None:
        if self.conversation_id is None:
            await self.send_error("no_conversation", gettext("There is no chat to end."))
            return
        try:
            await consumer_db(webchat_conversation_end)(session=self.session, conversation_id=self.conversation_id)
        except ApplicationError as refusal:
            await self.send_error(refusal.code, refusal.message)

    async def on_restart(self, content: dict) -> None:
        latest = await consumer_db(visitor_conversation_latest)(visitor=self.session.visitor)
        if latest is not None and latest.status != ConversationStatus.ENDED:
            await self.send_error(
                "conversation_open", gettext("This chat is still open; end it before starting a new one.")
            )
            return
        if self.conversation_id is not None:
            await self.channel_layer.group_discard(
                conversation_group(conversation_id=self.conversation_id), self.channel_name
            )
            self.conversation_id = None
        await self.send_json({"type": "restarted"})

    async def on_ping(self, content: dict) -> None:
        await self.send_json({"type": "pong"})

    # --- Events of the conversation's group -----------------------------------------------

    async def conversation_message(self, event: dict) -> None:
        message = event.get("message") or {}
        if message.get("conversation") != self.conversation_id:
            return
        if not visible_to_visitor(
            author_kind=message.get("author_kind", ""),
            payload=message.get("payload"),
            # Fail closed: a message that does not say it is for the customer is not sent to them.
            internal=message.get("internal") is not False,
        ):
            return
        # The visitor's own message carries the client id it was sent with (as in ``resume``), so
        # that the widget confirms the line it shows as pending instead of adding a second one
        # (a file's push can arrive before the upload's own answer).
        client_id = visitor_client_id(
            visitor=self.session.visitor,
            author_kind=message.get("author_kind", ""),
            external_id=event.get("external_id") or "",
        )
        await self.send_json({"type": "message", "message": visitor_message_json(message=message, client_id=client_id)})

    async def conversation_status(self, event: dict) -> None:
        conversation = event.get("conversation")
        if conversation is not None and conversation != self.conversation_id:
            return
        await self.send_json({"type": "status", "conversation": self.conversation_id, "status": event.get("status")})

    async def conversation_typing(self, event: dict) -> None:
        if event.get("conversation") == self.conversation_id and event.get("who") == ChatReader.AGENT:
            await self.send_json({"type": "typing", "typing": event.get("typing") is True})

    async def conversation_read(self, event: dict) -> None:
        if event.get("conversation") == self.conversation_id and event.get("reader") == ChatReader.AGENT:
            await self.send_json({"type": "read", "up_to": event.get("up_to"), "read_at": event.get("read_at")})

    async def conversation_survey(self, event: dict) -> None:
        if event.get("conversation") != self.conversation_id or not isinstance(event.get("survey"), dict):
            return
        await self.send_json({"type": "survey", "conversation": self.conversation_id, "survey": event["survey"]})
