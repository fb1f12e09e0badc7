"""The anonymous web chat has limits: connections open at once and new conversations a minute, per
client address and per site key, counted in Redis and refused with a clear error frame."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from engagement.conversations.models import Conversation
from engagement.webchat.models import SiteKey
from tests.engagement.factories import SiteKeyFactory
from tests.engagement.websockets import accepted, closed_with, isolated_redis, receive, run, widget

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.CEA_TRUSTED_PROXY_COUNT = 1


@pytest.fixture(autouse=True)
def _no_self_service(monkeypatch):
    monkeypatch.setattr(
        "engagement.webchat.services.selfservice_answer_pending", lambda *, conversation, up_to_message_id: []
    )


@pytest.fixture
def site(team_a) -> SiteKey:
    return SiteKeyFactory(name="Northwind", allowed_origins=[SHOP], queue="web-chat", team=team_a)


def widget_from(ip: str, site: SiteKey) -> WebsocketCommunicator:
    """The widget of a visitor at ``ip``, through the one trusted proxy (which appends the address)."""
    return widget(site.key, origin=SHOP, headers=[(b"x-forwarded-for", f"198.51.100.77, {ip}".encode())])


async def let_in(ip: str, site: SiteKey) -> WebsocketCommunicator:
    communicator = await accepted(widget_from(ip, site))
    await receive(communicator, "welcome")
    return communicator


async def refused(ip: str, site: SiteKey) -> tuple[dict, int]:
    """The error frame and close code of a connection that is not let in."""
    communicator = widget_from(ip, site)
    await communicator.connect(timeout=5)
    return await receive(communicator, "error"), await closed_with(communicator)


# --- Connections at once ----------------------------------------------------------------------


def test_connections_from_one_address_are_limited_and_a_closed_one_frees_its_place(site, settings):
    settings.CEA_WEBCHAT_CONNECTIONS_PER_IP = 2

    async def scenario():
        # Given: two widgets open from one address (``run`` closes those still open at the end)
        first = await let_in("203.0.113.9", site)
        await let_in("203.0.113.9", site)
        # When
        error, code = await refused("203.0.113.9", site)
        await let_in("203.0.113.10", site)  # another address
        await first.disconnect()
        await let_in("203.0.113.9", site)  # in the place the first one freed
        # Then
        assert (error["code"], code) == ("too_many_connections", 4429)

    run(scenario)


def test_connections_to_one_site_key_are_limited(site, settings):
    settings.CEA_WEBCHAT_CONNECTIONS_PER_SITE = 2

    async def scenario():
        # Given: two widgets open on the site key (``run`` closes them at the end)
        await let_in("203.0.113.1", site)
        await let_in("203.0.113.2", site)
        # When
        error, code = await refused("203.0.113.3", site)
        # Then
        assert (error["code"], code) == ("too_many_connections", 4429)

    run(scenario)


# --- New conversations a minute ---------------------------------------------------------------


async def first_message(communicator, client_id: str = "c-1") -> dict:
    """The answer to a visitor's message: its ``ack`` or an ``error`` (the echoes of messages are skipped)."""
    await communicator.send_json_to({"type": "message", "client_id": client_id, "body": "Hello"})
    while (frame := await receive(communicator))["type"] not in ("ack", "error"):
        pass
    return frame


def test_new_conversations_from_one_address_are_limited_per_minute(site, settings):
    settings.CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE = 2

    async def scenario():
        # Given: three visitors behind one address (three widgets without a visitor token)
        widgets = [await let_in("203.0.113.9", site) for _ in range(3)]
        # When
        answers = [await first_message(communicator) for communicator in widgets]
        elsewhere = await let_in("203.0.113.10", site)
        other_address = await first_message(elsewhere)
        # Then
        assert [answer["type"] for answer in answers] == ["ack", "ack", "error"]
        error = answers[2]
        assert (error["code"], error["client_id"]) == ("too_many_conversations", "c-1")
        assert 0 < error["retry_after"] <= 60
        assert other_address["type"] == "ack"
        # the refused visitor's socket goes on
        await widgets[2].send_json_to({"type": "ping"})
        assert await receive(widgets[2]) == {"type": "pong"}

    run(scenario)
    assert Conversation.objects.count() == 3


def test_new_conversations_on_one_site_key_are_limited_per_minute(site, settings):
    settings.CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE = 2

    async def scenario():
        widgets = [await let_in(f"203.0.113.{n}", site) for n in (1, 2, 3)]
        # When
        answers = [await first_message(communicator) for communicator in widgets]
        # Then
        assert [answer.get("code") for answer in answers] == [None, None, "too_many_conversations"]
        assert await database_sync_to_async(Conversation.objects.count)() == 2

    run(scenario)


def test_messages_in_an_open_conversation_are_not_new_conversations(site, settings):
    settings.CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE = 1

    async def scenario():
        communicator = await let_in("203.0.113.9", site)
        # When
        answers = [await first_message(communicator, f"c-{n}") for n in (1, 2, 3)]
        # Then
        assert [answer["type"] for answer in answers] == ["ack", "ack", "ack"]

    run(scenario)
