"""Live context for signed-in users: ``ws/context/`` (session-authenticated, origin-checked in cea/asgi.py).

Frames from the browser::

    {"action": "subscribe", "scope": "customer" | "conversation", "id": 42}
        → {"type": "subscribed", "scope", "id", "context": {"version", "values", "expires_at", ...}}
    {"action": "subscribe", "scope": "conversation_messages", "id": 7, "after": 0}
        → {"type": "subscribed", "scope", "id", "messages": [...], "more": bool}
    {"action": "unsubscribe", "scope": ..., "id": ...}  → {"type": "unsubscribed", "scope", "id"}
    {"action": "ping"}                                   → {"type": "pong"}

Pushes: ``{"type": "context.changed", "scope", "id", "version", "values", "changed"}`` for a
subscribed context (a customer's subscription also gets the changes of that customer's
conversations' contexts), ``{"type": "conversation.message", "message"}`` and
``{"type": "conversation.status", "conversation", "status"}`` for followed conversations.
Each subscription is permission-checked (``access_customer`` / ``access_conversation``); a
refusal is an error frame (``forbidden``, ``not_found``) and no subscription. An unauthenticated
connection is closed with 4401.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from cea.common.errors import ApplicationError, PermissionDenied, ValidationFailed
from engagement.access import access_conversation
from engagement.consumers import CLOSE_NOT_AUTHENTICATED, EngagementJsonConsumer
from engagement.context.access import access_context
from engagement.context.models import ContextScope
from engagement.context.serializers import ContextSerializer, context_representation
from engagement.context.services import context_read, live_group
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_group, message_json

MESSAGES = "conversation_messages"
SCOPES = (*ContextScope.values, MESSAGES)
MESSAGE_PAGE = 200


def _current_user(user_id: int):
    """The user as the database has them now: a deactivated user's socket subscribes to nothing."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    return user


def subscription_snapshot(*, user_id: int, scope: str, object_id: str, after: int) -> dict[str, Any]:
    """What a new subscriber starts from, after checking they may see it."""
    user = _current_user(user_id)
    if scope == MESSAGES:
        conversation = access_conversation(user, object_id)
        messages = list(conversation.messages.filter(id__gt=after).order_by("id")[: MESSAGE_PAGE + 1])
        return {
            "messages": [message_json(message) for message in messages[:MESSAGE_PAGE]],
            "more": len(messages) > MESSAGE_PAGE,
        }
    target = access_context(user, scope, object_id)
    context = context_read(scope=target.scope, context_id=target.id)
    return {"context": ContextSerializer(context_representation(context)).data}


def subscription_check(*, user_id: int, scope: str, object_id: str) -> None:
    user = _current_user(user_id)
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
    return conversation_group(int(object_id)) if scope == MESSAGES else live_group(scope, object_id)


class LiveContextConsumer(EngagementJsonConsumer):
    max_subscriptions = 100

    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_NOT_AUTHENTICATED, "not_authenticated", "Sign in first.")
            return
        self.user_id = user.pk
        await self.accept()
        self.let_in = True

    async def disconnect(self, code) -> None:
        for scope, object_id in getattr(self, "subscriptions", set()):
            await self.channel_layer.group_discard(_group(scope, object_id), self.channel_name)

    async def receive_json(self, content: dict, **kwargs) -> None:
        action = content.get("action")
        if action == "ping":
            await self.send_json({"type": "pong"})
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
            await database_sync_to_async(subscription_check)(user_id=self.user_id, scope=scope, object_id=object_id)
        except ApplicationError as refusal:
            await self.send_error(refusal.code, refusal.message, scope=scope, id=object_id)
            return
        # Join before reading the snapshot: a change in between then arrives as a push (with a
        # higher version, or as a message the client already has by id) instead of being lost.
        await self.channel_layer.group_add(_group(scope, object_id), self.channel_name)
        self.subscriptions.add(key)
        try:
            snapshot = await database_sync_to_async(subscription_snapshot)(
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
            await self.channel_layer.group_discard(_group(scope, object_id), self.channel_name)
        if not quiet:
            await self.send_json({"type": "unsubscribed", "scope": scope, "id": object_id})

    # --- Pushes ---------------------------------------------------------------------------

    async def context_changed(self, event: dict) -> None:
        scope, object_id = event.get("scope"), str(event.get("id"))
        if (scope, object_id) not in self.subscriptions:
            # A conversation's change also goes to its customer's group: forward it to a
            # subscriber of that customer only.
            if scope != ContextScope.CONVERSATION or not any(
                subscribed == ContextScope.CUSTOMER for subscribed, _ in self.subscriptions
            ):
                return
            customer_id = await database_sync_to_async(conversation_customer_id)(object_id)
            if customer_id is None or (ContextScope.CUSTOMER, str(customer_id)) not in self.subscriptions:
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

    async def conversation_message(self, event: dict) -> None:
        message = event.get("message") or {}
        if (MESSAGES, str(message.get("conversation"))) in self.subscriptions:
            await self.send_json({"type": "conversation.message", "message": message})

    async def conversation_status(self, event: dict) -> None:
        conversation = event.get("conversation")
        if conversation is not None and (MESSAGES, str(conversation)) in self.subscriptions:
            await self.send_json(
                {"type": "conversation.status", "conversation": conversation, "status": event.get("status")}
            )
