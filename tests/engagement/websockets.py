"""Helpers for the websocket tests: their own Redis keys and channel layer, sessions, communicators.

Consumers run against ``cea.asgi.application`` (the real routing and middleware) with the real
Redis channel layer; the tests that use them need ``django_db(transaction=True)``, because the
consumers reach the database from other threads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from cea.asgi import application
from tests.support import isolated_redis

TIMEOUT = 5  # seconds to wait for a frame that must come (never a measurement)
QUIET = 0.3  # seconds of silence that count as "nothing more arrives"


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario from a plain pytest function."""
    async_to_sync(scenario)()


def widget(site_key: str, *, origin: str = "https://shop.example", token: str = "", page: str = ""):
    query = {"site_key": site_key}
    if token:
        query["visitor"] = token
    if page:
        query["page"] = page
    headers = [(b"origin", origin.encode())] if origin else []
    return WebsocketCommunicator(application, f"/ws/webchat/?{urlencode(query)}", headers=headers)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def desktop(session: str | None = None, *, origin: str = "http://testserver"):
    """A browser page of this site opening the live context socket, signed in with ``session``."""
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, "/ws/context/", headers=headers)


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
__all__ = ["QUIET", "TIMEOUT", "closed_with", "desktop", "isolated_redis", "receive", "run", "session_cookie", "widget"]
