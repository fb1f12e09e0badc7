"""The agent desktop's one websocket: ``ws/desktop/`` (session-authenticated, origin-checked in cea/asgi.py).

One connection per desk page carries the agent's offers, presence and work, and the
conversations and contexts the page follows. It is ``ws/context/`` (``LiveContextConsumer``)
plus the agent's own channel group, ``agent.<user id>``.

On connect: not signed in → an error frame and close 4401; signed in but not an agent or a
supervisor → close 4403. Otherwise the desk counts as connected (``desktop_connected``; the
presence sweep sets an agent offline once no desk has been connected for the grace period) and
the first frame is the desk's state::

    {"type": "desk.state", "presence": {...presence_json, "value"}, "offers": [...], "conversations": [ids]}

Frames from the browser, and their answers::

    {"action": "ping"}                                  → {"type": "pong", "latest"?}   (a heartbeat: desktop_seen)
    {"action": "accept", "offer": 12}                   → {"type": "offer.accepted", "offer", "conversation"}
    {"action": "reject", "offer": 12, "reason": "…"}    → {"type": "offer.rejected", "offer"}
    {"action": "presence", "presence": "away", "reason": "break"}
                                                        → {"type": "presence.set", ...presence_json, "value"}
    {"action": "subscribe" | "unsubscribe", "scope": "conversation_messages" | "conversation" | "customer", "id"}
                                                        → as ws/context/ (engagement/context/consumers.py)

Pushes to the agent's group besides offers, presence and work: ``{"type": "schedule.changed", "what":
"schedule" | "time_off" | "swap"}`` when their published schedule or one of their requests changes
(engagement/wfm/scheduling/editing.py); the page reloads its schedule panel.

A refusal is ``{"type": "error", "code", "message", "action", ...}`` (``fields`` for invalid
input, ``offer`` for an offer) and the socket stays open.

Access is re-checked as on ws/context/: before each push (the agent's own ones too: still a desk
user?), at most every ``CEA_WS_ACCESS_RECHECK_SECONDS``, and the socket closes on a sign-out or a
change of the user's access (``user.<id>``).

Pushes, from the router to ``agent.<user id>``: ``offer.new`` {offer}, ``offer.ended`` {offer,
status, reason}, ``presence.changed`` {...presence_json}, ``work.ended`` {conversation, status},
``work.wrap_up`` {conversation}; and from followed conversations and contexts, as on ws/context/:
``conversation.message``, ``conversation.status``, ``context.changed``; and a web chat's
``conversation.typing`` and ``conversation.read`` (actions ``typing`` and ``read``: engagement/desktop/chat.py).
"""

from __future__ import annotations

from typing import Any

from cea.accounts.models import User
from cea.accounts.selectors import active_user
from cea.common.consumer_db import consumer_db
from cea.common.errors import ApplicationError, ValidationFailed
from engagement.access import require_desk_user
from engagement.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_AUTHENTICATED
from engagement.context.consumers import LiveContextConsumer
from engagement.desktop.chat import CHAT_ACTIONS, DeskChatMixin
from engagement.desktop.selectors import desk_presence, desk_state
from engagement.routing.live import agent_group
from engagement.routing.offers import offer_accept, offer_reject
from engagement.routing.presence import (
    agent_profile_for,
    desktop_connected,
    desktop_disconnected,
    desktop_seen,
    presence_set,
)

DESK_ACTIONS = ("accept", "reject", "presence")
ACTIONS = ("subscribe", "unsubscribe", *DESK_ACTIONS, *CHAT_ACTIONS, "ping")


# --- What the consumer does in the database (sync; each call is one unit of work) ----------------


def desk_user(*, user_id: int) -> User:
    """The user as the database has them now, if they may use the desk (else ``PermissionDenied``)."""
    user = active_user(user_id=user_id)
    require_desk_user(user)
    return user


def desk_connect(*, user_id: int) -> dict[str, Any]:
    """Count the connection and read the desk's state."""
    user = desk_user(user_id=user_id)
    agent_profile_for(user)  # made on first use: the connection is counted on it
    desktop_connected(user_id=user.pk)
    return desk_state(user=user)


def _offer_id(content: dict) -> int:
    raw = content.get("offer")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isascii() or not str(raw).isdigit():
        raise ValidationFailed("offer is the id of one of your offers.", fields={"offer": "An offer id."})
    if len(str(raw)) > 18:
        raise ValidationFailed("offer is the id of one of your offers.", fields={"offer": "An offer id."})
    return int(raw)


def _text(content: dict, key: str, limit: int = 200) -> str:
    value = content.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationFailed(f"{key} is a text of at most {limit} characters.", fields={key: "Invalid."})
    return value


def desk_accept(*, user_id: int, content: dict) -> dict[str, Any]:
    offer_id = _offer_id(content)
    conversation = offer_accept(actor=desk_user(user_id=user_id), offer_id=offer_id)
    return {"type": "offer.accepted", "offer": offer_id, "conversation": conversation.pk}


def desk_reject(*, user_id: int, content: dict) -> dict[str, Any]:
    offer_id = _offer_id(content)
    offer_reject(actor=desk_user(user_id=user_id), offer_id=offer_id, reason=_text(content, "reason"))
    return {"type": "offer.rejected", "offer": offer_id}


def desk_set_presence(*, user_id: int, content: dict) -> dict[str, Any]:
    """Presence and reason as two fields, or as the desk's select value (``away:break``)."""
    presence, reason = _text(content, "presence", 60), _text(content, "reason", 40)
    if ":" in presence and not reason:
        presence, reason = presence.split(":", 1)
    user = desk_user(user_id=user_id)
    profile = presence_set(actor=user, agent_user=user, presence=presence, reason_code=reason)
    return {"type": "presence.set", **desk_presence(profile=profile)}


HANDLERS = {"accept": desk_accept, "reject": desk_reject, "presence": desk_set_presence}


class DesktopConsumer(DeskChatMixin, LiveContextConsumer):
    """``ws/desktop/``: the agent's group and desk actions, on top of live context and conversations."""

    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        self.counted = False
        user_id = await self.admitted(desk_user)
        if user_id is None:
            return
        self.agent_group = agent_group(user_id)
        # Join before reading the state: an offer made in between arrives as a push, not lost.
        await self.channel_layer.group_add(self.agent_group, self.channel_name)
        await self.accept()
        try:
            state = await consumer_db(desk_connect)(user_id=user_id)
        except ApplicationError as refusal:  # deactivated or demoted between the two reads
            await self.channel_layer.group_discard(self.agent_group, self.channel_name)
            await self.send_error(refusal.code, refusal.message)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.counted = True
        self.let_in = True
        await self.send_json({"type": "desk.state", **state})

    async def disconnect(self, code) -> None:
        await super().disconnect(code)
        if getattr(self, "agent_group", None):
            await self.channel_layer.group_discard(self.agent_group, self.channel_name)
        if getattr(self, "counted", False):
            self.counted = False
            await consumer_db(desktop_disconnected)(user_id=self.user_id)

    async def receive_json(self, content: dict, **kwargs) -> None:
        action = content.get("action")
        if action == "ping":
            await consumer_db(desktop_seen)(user_id=self.user_id)
            await self.pong()
        elif action in DESK_ACTIONS:
            await self.act(action, content)
        elif action in ("subscribe", "unsubscribe"):
            await super().receive_json(content, **kwargs)
        elif action in CHAT_ACTIONS:  # a web chat's typing and read receipts (engagement/desktop/chat.py)
            await self.chat_action(action, content)
        else:
            await self.send_error("unknown_action", f"Actions: {', '.join(ACTIONS)}.")

    async def act(self, action: str, content: dict) -> None:
        try:
            answer = await consumer_db(HANDLERS[action])(user_id=self.user_id, content=content)
        except ApplicationError as refusal:
            detail: dict[str, Any] = {"action": action}
            if refusal.fields:
                detail["fields"] = refusal.fields
            if action in ("accept", "reject"):
                detail["offer"] = content.get("offer")
            await self.send_error(refusal.code, refusal.message, **detail)
            return
        await self.send_json(answer)

    # --- Pushes to the agent's group ------------------------------------------------------------

    async def still_a_desk_user(self) -> bool:
        """Whether the agent's own pushes may go out: the user may still use the desk (re-checked at
        most every ``recheck_seconds``); if not, the socket closes."""
        if self.shut:
            return False
        refusal = await self.refused_now(("desk", ""), desk_user)
        if refusal is None:
            return True
        close = CLOSE_NOT_AUTHENTICATED if refusal.code == "not_authenticated" else CLOSE_FORBIDDEN
        await self.shut_for(close, refusal.code, refusal.message)
        return False

    async def offer_new(self, event: dict) -> None:
        if await self.still_a_desk_user():
            await self.send_json({"type": "offer.new", "offer": event.get("offer")})

    async def offer_ended(self, event: dict) -> None:
        if not await self.still_a_desk_user():
            return
        await self.send_json(
            {
                "type": "offer.ended",
                "offer": event.get("offer"),
                "status": event.get("status"),
                "reason": event.get("reason"),
            }
        )

    async def presence_changed(self, event: dict) -> None:
        if not await self.still_a_desk_user():
            return
        presence, reason = event.get("presence"), event.get("reason")
        value = f"{presence}:{reason}" if presence == "away" and reason else presence
        await self.send_json({**event, "type": "presence.changed", "value": value})

    async def work_ended(self, event: dict) -> None:
        if not await self.still_a_desk_user():
            return
        await self.send_json(
            {"type": "work.ended", "conversation": event.get("conversation"), "status": event.get("status")}
        )

    async def work_wrap_up(self, event: dict) -> None:
        if await self.still_a_desk_user():
            await self.send_json({"type": "work.wrap_up", "conversation": event.get("conversation")})

    async def schedule_changed(self, event: dict) -> None:
        """The agent's published schedule or one of their time-off or swap requests changed (WFM)."""
        if await self.still_a_desk_user():
            await self.send_json({"type": "schedule.changed", "what": event.get("what")})
