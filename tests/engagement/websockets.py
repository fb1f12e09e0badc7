"""Helpers for the websocket tests: their own Redis keys and channel layer, sessions, communicators.

Consumers run against ``cea.asgi.application`` (the real routing and middleware) with the real
Redis channel layer; the tests that use them need ``django_db(transaction=True)``, because the
consumers reach the database from other threads.

Every communicator is made here (``socket`` and the helpers on it) and every scenario runs through
``run``, which disconnects each communicator the scenario opened however it ends (an assertion
failing half-way included): no consumer outlives its test, still in its groups or holding a
connection. A test disconnects itself only where the disconnection is what it tests.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from cea.asgi import application
from cea.common import live
from cea.common.live import Throttle
from tests.support import isolated_redis

TIMEOUT = 5  # seconds to wait for a frame that must come (never a measurement)
QUIET = 0.3  # seconds of silence that count as "nothing more arrives"


# The communicators the running scenario has made, for ``run`` to disconnect.
_opened: ContextVar[list[WebsocketCommunicator]] = ContextVar("opened_websockets")


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario from a plain pytest function; then disconnect every communicator it made."""

    async def and_hang_up() -> None:
        opened: list[WebsocketCommunicator] = []
        token = _opened.set(opened)
        try:
            await scenario()
        finally:
            _opened.reset(token)
            for communicator in opened:
                await hang_up(communicator)

    async_to_sync(and_hang_up)()


async def hang_up(communicator: WebsocketCommunicator) -> None:
    """Disconnect ``communicator`` unless its consumer has already finished (a test that disconnected
    it, or a receive that timed out and cancelled it). Raises what the consumer raised, as
    ``disconnect`` does."""
    if not communicator.future.done():
        await communicator.disconnect()


def socket(path: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    """A communicator to ``path`` on the real application, disconnected by ``run`` when the scenario
    ends. Only inside a scenario given to ``run``; the test connects it."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    _opened.get().append(communicator)  # LookupError: the scenario does not run through ``run``
    return communicator


def widget(site_key: str, *, origin: str = "https://shop.example", token: str = "", page: str = "", headers=()):
    """The web chat widget of a visitor on the page at ``origin`` (``headers``: more, e.g. a proxy's)."""
    query = {"site_key": site_key}
    if token:
        query["visitor"] = token
    if page:
        query["page"] = page
    origin_header = [(b"origin", origin.encode())] if origin else []
    return socket(f"/ws/webchat/?{urlencode(query)}", [*origin_header, *headers])


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def desktop(session: str | None = None, *, origin: str = "http://testserver", path: str = "/ws/context/"):
    """A browser page of this site opening the live context socket (or the desk's, ``path="/ws/desktop/"``),
    signed in with ``session``."""
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return socket(path, headers)


def desk(session: str | None = None) -> WebsocketCommunicator:
    """The agent desktop's socket, ws/desktop/, signed in with ``session``."""
    return desktop(session, path="/ws/desktop/")


async def accepted(communicator: WebsocketCommunicator) -> WebsocketCommunicator:
    """``communicator`` past an accepted handshake (fails if it is refused)."""
    accepted, _ = await communicator.connect(timeout=TIMEOUT)
    assert accepted
    return communicator


async def signed_in(user) -> WebsocketCommunicator:
    """The live context socket of a page ``user`` has open, past its handshake."""
    return await accepted(desktop(await database_sync_to_async(session_cookie)(user)))


async def receive(communicator, frame_type: str | None = None) -> dict:
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    if frame_type is not None:
        assert frame["type"] == frame_type, frame
    return frame


async def closed_with(communicator) -> int:
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close", output
    return output["code"]


# isolated_redis is shared (tests/support.py) and re-exported for the tests that import it from here.
__all__ = [
    "QUIET",
    "TIMEOUT",
    "accepted",
    "closed_with",
    "desk",
    "desktop",
    "hang_up",
    "isolated_redis",
    "receive",
    "run",
    "session_cookie",
    "signed_in",
    "socket",
    "widget",
]


def own_coalescer(monkeypatch, throttle: Throttle) -> Throttle:
    """Give ``cea.common.live`` the test's own ``throttle`` of coalesced pushes, once every push the
    process's throttle still owes has been sent: a push an earlier test caused (a second later) must
    not reach this test's sockets, which join the same groups."""
    owed = live._coalesced
    deadline = time.monotonic() + 5
    while owed.due and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not owed.due, f"pushes still owed after 5 s: {sorted(owed.due)}"
    monkeypatch.setattr(live, "_coalesced", throttle)
    return throttle
