"""Conventions shared by engagement's websocket consumers (the web chat widget, live context).

- Every refusal a client can act on is a frame ``{"type": "error", "code", "message", ...}``;
  the socket stays open unless the refusal is about the connection itself.
- A connection that is not let in is accepted, sent one error frame and closed with a 4xxx
  code (4401 not signed in, 4403 not allowed). Closing before the handshake would become an
  HTTP 403 that browsers report as an anonymous 1006, and a client could not tell "stop
  trying" from "the network dropped".
- Frames that are not JSON objects, or too large, get an error frame instead of killing the
  consumer; channel-layer events of a type a consumer does not handle are ignored.
- A message over ``CEA_WS_MAX_BYTES`` (which uvicorn is also started with, ``--ws-max-size``) gets
  an error frame ``message_too_big`` and the socket is closed with 1009, whatever server runs us.
- Each connection has a frame budget (a token bucket), so one client cannot flood the server.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

logger = logging.getLogger("engagement.websockets")

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# What the user may see changed (a role or team change): reconnect and subscribe again.
CLOSE_ACCESS_CHANGED = 4409
CLOSE_FLOODING = 4429
CLOSE_MESSAGE_TOO_BIG = 1009  # RFC 6455


class TokenBucket:
    """``capacity`` actions at once, refilled at ``per_second``; ``take()`` says whether one may go."""

    def __init__(self, capacity: float, per_second: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.tokens = capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def seconds_until_next(self) -> float:
        return 0.0 if self.tokens >= 1 or self.per_second <= 0 else (1 - self.tokens) / self.per_second


class EngagementJsonConsumer(AsyncJsonWebsocketConsumer):
    """JSON frames with error frames, refusals that reach the browser, and a frame budget."""

    max_frame_chars = 16_000
    frame_burst: float = 40
    frames_per_second: float = 4
    # A client that keeps sending after this many refused frames in a row is disconnected.
    max_refused_in_a_row = 40

    async def websocket_connect(self, message) -> None:
        self.let_in = False
        self.frames = TokenBucket(self.frame_burst, self.frames_per_second)
        self.refused_in_a_row = 0
        await super().websocket_connect(message)

    async def refuse(self, close_code: int, code: str, message: str) -> None:
        """Accept, say why in an error frame, and close with ``close_code``."""
        await self.accept()
        await self.send_error(code, message)
        await self.close(code=close_code)

    async def send_error(self, code: str, message: str, **detail: Any) -> None:
        # str(): a message may be a lazy translation, rendered in the language active here.
        await self.send_json({"type": "error", "code": code, "message": str(message), **detail})

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        limit = settings.CEA_WS_MAX_BYTES
        size = len(bytes_data) if bytes_data is not None else len(text_data or "")
        if text_data is not None and size <= limit < size * 4:
            size = len(text_data.encode("utf-8"))  # a character is 1 to 4 bytes: encode only when it matters
        if size > limit:
            logger.warning("%s: closing a connection that sent a message over %d bytes", type(self).__name__, limit)
            if self.let_in:
                await self.send_error("message_too_big", f"A message is at most {limit} bytes.", max_bytes=limit)
            self.let_in = False
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        if not self.let_in:
            return
        if not self.frames.take():
            self.refused_in_a_row += 1
            if self.refused_in_a_row > self.max_refused_in_a_row:
                logger.warning("%s: closing a connection that kept flooding", type(self).__name__)
                await self.close(code=CLOSE_FLOODING)
                return
            await self.send_error(
                "rate_limited",
                "Too many frames; slow down.",
                retry_after=round(self.frames.seconds_until_next(), 1),
            )
            return
        self.refused_in_a_row = 0
        if text_data is None:
            await self.send_error("bad_frame", "Send JSON text frames.")
            return
        if len(text_data) > self.max_frame_chars:
            await self.send_error("frame_too_large", f"A frame is at most {self.max_frame_chars} characters.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("bad_json", "The frame is not valid JSON.")
            return
        if not isinstance(content, dict):
            await self.send_error("bad_frame", "A frame is a JSON object.")
            return
        await self.receive_json(content)

    async def dispatch(self, message) -> None:
        # Other parts of the platform may send new event types to a group; ignore the ones this
        # consumer does not know instead of crashing the connection. Event types are dotted
        # ("conversation.message"), so an event can never name a plain method ("close").
        kind = message.get("type")
        if not isinstance(kind, str) or "." not in kind or kind.startswith("."):
            return
        if kind.startswith("websocket.") or hasattr(self, get_handler_name(message)):
            await super().dispatch(message)
