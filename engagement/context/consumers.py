"""Live context for signed-in users: ``ws/context/`` (session-authenticated, origin-checked in cea/asgi.py).

Frames from the browser::

    {"action": "subscribe", "scope": "customer" | "conversation", "id": 42}
        → {"type": "subscribed", "scope", "id", "context": {"version", "values", "expires_at", ...}}
    {"action": "subscribe", "scope": "conversation_messages", "id": 7, "after": 0}
        → {"type": "subscribed", "scope", "id", "messages": [...], "more": bool}
    {"action": "unsubscribe", "scope": ..., "id": ...}  → {"type": "unsubscribed", "scope", "id"}
    {"action": "ping"}                                   → {"type": "pong", "latest"?: {"7": 1234}}

Pushes: ``{"type": "context.changed", "scope", "id", "version", "values", "changed"}`` for a
subscribed context (a customer's subscription also gets the changes of that customer's
conversations' contexts), ``{"type": "conversation.message", "message", "previous"}`` (``previous``: the
id of the conversation's message before it, or null) and
``{"type": "conversation.status", "conversation", "status"}`` and ``{"type": "conversation.delivery",
"conversation", "message", "delivery", "receipts", "error"}`` (a reply's delivery receipt) for followed
conversations, and
``{"type": "recommendations.changed", "customer", "decided"}`` for a subscribed customer whose recommended
actions changed (the desk reads its Next best action card again).
A heartbeat's ``pong`` carries, for followed conversations, the id of each one's latest message
(``latest``): a client showing less subscribes again with ``after`` to fetch a push it missed
while the channel layer was down; and a client that gets a message whose ``previous`` it does not
show does the same at once. Each subscription is permission-checked (``access_customer`` /
``access_conversation``); a refusal is an error frame (``forbidden``, ``not_found``) and no
subscription. An unauthenticated connection is closed with 4401.

Access is not only checked once: before a push, the subscription is checked again (at most every
``CEA_WS_ACCESS_RECHECK_SECONDS``, so a burst of pushes reads the database once); when it is refused
the push is dropped, and so is the subscription, with
``{"type": "unsubscribed", "scope", "id", "code", "message"}``. And every socket of a signed-in
user is in the group ``user.<id>`` (``cea.common.live.user_group``): the services that sign the
user out or change their access send ``user.access_changed`` there, and the socket gets an error
frame with the reason as its code and closes — 4401 when signed out or deactivated, 4409 when the
role or teams changed (reconnect to start again from what the user may see now).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

from cea.accounts.selectors import active_user
from cea.common.consumer_db import consumer_db
from cea.common.errors import ApplicationError, ValidationFailed
from cea.common.live import DEACTIVATED, PASSWORD_CHANGED, ROLE_CHANGED, SIGNED_OUT, TEAMS_CHANGED, user_group
from engagement.access import access_context, access_conversation
from engagement.consumers import CLOSE_ACCESS_CHANGED, CLOSE_FORBIDDEN, CLOSE_NOT_AUTHENTICATED, EngagementJsonConsumer
from engagement.context.models import ContextScope
from engagement.context.rechecks import rechecks
from engagement.context.serializers import ContextSerializer, context_representation
from engagement.context.services import context_read, live_group
from engagement.conversations.models import Conversation
from engagement.conversations.selectors import conversations_latest_message_ids
from engagement.conversations.services import conversation_group, message_json

MESSAGES = "conversation_messages"
SCOPES = (*ContextScope.values, MESSAGES)
MESSAGE_PAGE = 200

ACCESS_CHANGED = {
    SIGNED_OUT: (CLOSE_NOT_AUTHENTICATED, "You signed out; sign in again."),
    DEACTIVATED: (CLOSE_NOT_AUTHENTICATED, "Your account was deactivated."),
    PASSWORD_CHANGED: (CLOSE_NOT_AUTHENTICATED, "Your password was changed; sign in again."),
    ROLE_CHANGED: (CLOSE_ACCESS_CHANGED, "Your role changed; reconnect."),
    TEAMS_CHANGED: (CLOSE_ACCESS_CHANGED, "Your teams changed; reconnect."),
}


def subscription_snapshot(*, user_id: int, scope: str, object_id: str, after: int) -> dict[str, Any]:
    """What a new subscriber starts from, after checking they may see it."""
    user = active_user(user_id=user_id)
    if scope == MESSAGES:
        conversation = access_conversation(user, object_id)
        messages = list(conversation.messages.filter(id__gt=after).order_by("id")[: MESSAGE_PAGE + 1])
        return {
            "messages": [message_json(message=message) for message in messages[:MESSAGE_PAGE]],
            "more": len(messages) > MESSAGE_PAGE,
        }
    target = access_context(user, scope, object_id)
    context = context_read(scope=target.scope, context_id=target.id)
    return {"context": ContextSerializer(context_representation(context)).data}


def subscription_check(*, user_id: int, scope: str, object_id: str) -> None:
    user = active_user(user_id=user_id)
    if scope == MESSAGES:
        access_conversation(user, object_id)
    else:
        access_context(user, scope, object_id)


def conversation_customer_id(conversation_id: str) -> int | None:
    return (
        Conversation.objects.filter(pk=int(conversation_id)).values_list("customer_id", flat=True).first()
        if conversation_id.isascii() and conversation_id.isdigit()
        else None
    )


def _group(scope: str, object_id: str) -> str:
    return (
        conversation_group(conversation_id=int(object_id))
        if scope == MESSAGES
        else live_group(scope=scope, context_id=object_id)
    )


class LiveContextConsumer(EngagementJsonConsumer):
    max_subscriptions = 100

    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_NOT_AUTHENTICATED, "not_authenticated", "Sign in first.")
            return
        await self.follow_user(user.pk)
        await self.accept()
        self.let_in = True

    async def admitted(self, check: Callable[..., Any], **arguments: Any) -> int | None:
        """The signed-in user's id once ``check(user_id=…, **arguments)`` lets them in, else ``None``.

        Refuses an anonymous socket (4401), follows the user's group (``follow_user``) before the
        check, and refuses with the check's own refusal (4401 if it says sign in, else 4403). The
        caller joins its groups and accepts.
        """
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_NOT_AUTHENTICATED, "not_authenticated", "Sign in first.")
            return None
        await self.follow_user(user.pk)
        try:
            await consumer_db(check)(user_id=user.pk, **arguments)
        except ApplicationError as refusal:
            close = CLOSE_NOT_AUTHENTICATED if refusal.code == "not_authenticated" else CLOSE_FORBIDDEN
            await self.refuse(close, refusal.code, refusal.message)
            return None
        return user.pk

    async def follow_user(self, user_id: int) -> None:
        """Join the user's group, through which a sign-out or a change of their access closes this socket.

        Joined before anything is checked, so that a change in between is not missed.
        """
        self.user_id = user_id
        self.user_group = user_group(user_id)
        self.checked_at: dict[tuple[str, str], float] = {}
        self.recheck_seconds = settings.CEA_WS_ACCESS_RECHECK_SECONDS
        self.shut = False
        await self.channel_layer.group_add(self.user_group, self.channel_name)

    async def disconnect(self, code) -> None:
        await self._leave_subscriptions()
        if getattr(self, "user_group", None):
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def _leave_subscriptions(self) -> None:
        for scope, object_id in getattr(self, "subscriptions", set()):
            await self.channel_layer.group_discard(_group(scope, object_id), self.channel_name)
        self.subscriptions = set()

    async def shut_for(self, close_code: int, code: str, message: str) -> None:
        """Stop every push, say why and close: the user may no longer have what this socket carries."""
        self.shut = True
        self.let_in = False
        await self._leave_subscriptions()
        await self.send_error(code, message)
        await self.close(code=close_code)

    async def refused_now(
        self, key: tuple[str, str], check: Callable[..., Any], **arguments: Any
    ) -> ApplicationError | None:
        """The refusal ``check(user_id=…, **arguments)`` raises now, or ``None`` while access holds.

        A check that passed is trusted for ``recheck_seconds`` (per ``key``), so that a burst of
        pushes reads the database once.
        """
        checked = self.checked_at.get(key)
        if checked is not None and time.monotonic() - checked < self.recheck_seconds:
            return None
        if check is subscription_check:
            # Coalesced with the other sockets' checks of the same push (rechecks.py).
            coalesced = rechecks(subscription_check)
            refusal = await coalesced.refusal(self.user_id, arguments["scope"], arguments["object_id"])
        else:
            try:
                await consumer_db(check)(user_id=self.user_id, **arguments)
                refusal = None
            except ApplicationError as refused:
                refusal = refused
        if refusal is not None:
            self.checked_at.pop(key, None)
            return refusal
        self.checked_at[key] = time.monotonic()
        return None

    async def still_subscribed(self, scope: str, object_id: str) -> bool:
        """Whether a push of the subscription may go out: it exists and the user may still see it.

        When access is gone the subscription is dropped and the client told (or, when the user is
        gone, the socket closed).
        """
        if self.shut or (scope, object_id) not in self.subscriptions:
            return False
        refusal = await self.refused_now((scope, object_id), subscription_check, scope=scope, object_id=object_id)
        if refusal is None:
            return True
        if refusal.code == "not_authenticated":
            await self.shut_for(CLOSE_NOT_AUTHENTICATED, refusal.code, refusal.message)
            return False
        await self.unsubscribe(scope, object_id, quiet=True)
        await self.send_json(
            {"type": "unsubscribed", "scope": scope, "id": object_id, "code": refusal.code, "message": refusal.message}
        )
        return False

    async def pong(self) -> None:
        """Answer a heartbeat with the latest message id of each followed conversation (``latest``).

        A push is lost when the channel layer cannot take it (Redis restarting) while this socket
        stays open; the client compares each id with the last message it shows and subscribes
        again (``after`` its last one) to fetch what it missed. Only for conversations the user
        may still see (checked as before a push).
        """
        followed = [object_id for scope, object_id in sorted(self.subscriptions) if scope == MESSAGES]
        visible = [int(object_id) for object_id in followed if await self.still_subscribed(MESSAGES, object_id)]
        frame: dict[str, Any] = {"type": "pong"}
        if visible:
            latest = await consumer_db(conversations_latest_message_ids)(conversation_ids=visible)
            frame["latest"] = {str(conversation_id): message_id for conversation_id, message_id in latest.items()}
        await self.send_json(frame)

    async def receive_json(self, content: dict, **kwargs) -> None:
        action = content.get("action")
        if action == "ping":
            await self.pong()
            return
        if action not in ("subscribe", "unsubscribe"):
            await self.send_error("unknown_action", "Actions: subscribe, unsubscribe, ping.")
            return
        try:
            scope, object_id, after = self._target(content)
        except ValidationFailed as refusal:
            await self.send_error(refusal.code, refusal.message, scope=content.get("scope"), id=content.get("id"))
            return
        if action == "subscribe":
            await self.subscribe(scope, object_id, after)
        else:
            await self.unsubscribe(scope, object_id)

    @staticmethod
    def _target(content: dict) -> tuple[str, str, int]:
        scope, raw_id, after = content.get("scope"), content.get("id"), content.get("after", 0)
        if scope not in SCOPES:
            raise ValidationFailed(f"scope is one of {', '.join(SCOPES)}.", code="invalid_scope")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not str(raw_id).isascii():
            raise ValidationFailed("id is the customer's or the conversation's id.", code="invalid_id")
        object_id = str(raw_id)
        if not object_id.isdigit() or len(object_id) > 18:
            raise ValidationFailed("id is the customer's or the conversation's id.", code="invalid_id")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValidationFailed("after is the id of the last message seen (0 for all).", code="invalid_after")
        return scope, str(int(object_id)), after

    async def subscribe(self, scope: str, object_id: str, after: int) -> None:
        key = (scope, object_id)
        if key not in self.subscriptions and len(self.subscriptions) >= self.max_subscriptions:
            await self.send_error(
                "too_many_subscriptions", f"At most {self.max_subscriptions} subscriptions per connection."
            )
            return
        try:
            await consumer_db(subscription_check)(user_id=self.user_id, scope=scope, object_id=object_id)
        except ApplicationError as refusal:
            await self.send_error(refusal.code, refusal.message, scope=scope, id=object_id)
            return
        # Join before reading the snapshot: a change in between then arrives as a push (with a
        # higher version, or as a message the client already has by id) instead of being lost.
        await self.channel_layer.group_add(_group(scope, object_id), self.channel_name)
        self.subscriptions.add(key)
        self.checked_at[key] = time.monotonic()
        try:
            snapshot = await consumer_db(subscription_snapshot)(
                user_id=self.user_id, scope=scope, object_id=object_id, after=after
            )
        except ApplicationError as refusal:
            await self.unsubscribe(scope, object_id, quiet=True)
            await self.send_error(refusal.code, refusal.message, scope=scope, id=object_id)
            return
        await self.send_json({"type": "subscribed", "scope": scope, "id": object_id, **snapshot})

    async def unsubscribe(self, scope: str, object_id: str, *, quiet: bool = False) -> None:
        if (scope, object_id) in self.subscriptions:
            self.subscriptions.discard((scope, object_id))
            self.checked_at.pop((scope, object_id), None)
            await self.channel_layer.group_discard(_group(scope, object_id), self.channel_name)
        if not quiet:
            await self.send_json({"type": "unsubscribed", "scope": scope, "id": object_id})

    # --- Pushes ---------------------------------------------------------------------------

    async def user_access_changed(self, event: dict) -> None:
        close_code, message = ACCESS_CHANGED.get(event.get("reason"), ACCESS_CHANGED[ROLE_CHANGED])
        await self.shut_for(close_code, event.get("reason") or ROLE_CHANGED, message)

    async def context_changed(self, event: dict) -> None:
        scope, object_id = event.get("scope"), str(event.get("id"))
        subscription = (scope, object_id)
        if subscription not in self.subscriptions:
            # A conversation's change also goes to its customer's group: forward it to a
            # subscriber of that customer only.
            if scope != ContextScope.CONVERSATION or not any(
                subscribed == ContextScope.CUSTOMER for subscribed, _ in self.subscriptions
            ):
                return
            customer_id = await consumer_db(conversation_customer_id)(object_id)
            subscription = (ContextScope.CUSTOMER, str(customer_id))
            if customer_id is None or subscription not in self.subscriptions:
                return
        if not await self.still_subscribed(*subscription):
            return
        await self.send_json(
            {
                "type": "context.changed",
                "scope": scope,
                "id": object_id,
                "version": event.get("version"),
                "values": event.get("values"),
                "changed": event.get("changed"),
            }
        )

    async def recommendations_changed(self, event: dict) -> None:
        """A customer's recommended actions changed (offered, decided): their subscribers read the card again."""
        customer = event.get("customer")
        if customer is not None and await self.still_subscribed(ContextScope.CUSTOMER, str(customer)):
            await self.send_json(
                {"type": "recommendations.changed", "customer": customer, "decided": event.get("decided")}
            )

    async def conversation_message(self, event: dict) -> None:
        message = event.get("message") or {}
        if await self.still_subscribed(MESSAGES, str(message.get("conversation"))):
            await self.send_json(
                {"type": "conversation.message", "message": message, "previous": event.get("previous")}
            )

    async def conversation_delivery(self, event: dict) -> None:
        """A reply's delivery changed (a provider's receipt, engagement/adapters/outbox.py)."""
        conversation = event.get("conversation")
        if conversation is not None and await self.still_subscribed(MESSAGES, str(conversation)):
            keys = ("conversation", "message", "delivery", "receipts", "error")
            await self.send_json({"type": "conversation.delivery", **{key: event.get(key) for key in keys}})

    async def conversation_status(self, event: dict) -> None:
        conversation = event.get("conversation")
        if conversation is not None and await self.still_subscribed(MESSAGES, str(conversation)):
            await self.send_json(
                {"type": "conversation.status", "conversation": conversation, "status": event.get("status")}
            )
