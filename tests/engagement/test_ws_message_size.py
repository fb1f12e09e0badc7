"""Websocket messages larger than CEA_WS_MAX_BYTES: an error frame, then close 1009, in every consumer.

uvicorn refuses them itself (``--ws-max-size``, cea/runtime and the Procfile); the consumers enforce
the same limit for a deployment behind another server.
"""

from __future__ import annotations

import pytest

from engagement.webchat.models import SiteKey
from tests.engagement.factories import SiteKeyFactory
from tests.engagement.websockets import accepted, closed_with, isolated_redis, receive, run, signed_in, widget

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 20_000


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.CEA_WS_MAX_BYTES = LIMIT


@pytest.fixture
def site(team_a) -> SiteKey:
    return SiteKeyFactory(name="Northwind", allowed_origins=["https://shop.example"], team=team_a)


async def widget_open(site: SiteKey):
    communicator = await accepted(widget(site.key))
    await receive(communicator, "welcome")
    return communicator


# 12,000 characters of 3 bytes each: under the 16,000 characters a frame may have, over the byte limit.
TOO_BIG = [
    pytest.param({"text_data": '{"type": "ping", "pad": "' + "€" * 12_000 + '"}'}, id="text"),
    pytest.param({"bytes_data": b"\x00" * (LIMIT + 1)}, id="binary"),
]


@pytest.mark.parametrize("frame", TOO_BIG)
def test_a_widgets_message_over_the_limit_closes_the_socket_with_1009(site, frame):
    async def scenario():
        communicator = await widget_open(site)
        # When
        await communicator.send_to(**frame)
        error = await receive(communicator, "error")
        # Then
        assert (error["code"], error["max_bytes"]) == ("message_too_big", LIMIT)
        assert await closed_with(communicator) == 1009

    run(scenario)


@pytest.mark.parametrize("frame", TOO_BIG)
def test_a_signed_in_sockets_message_over_the_limit_closes_it_with_1009(agent, frame):
    async def scenario():
        communicator = await signed_in(agent)
        # When
        await communicator.send_to(**frame)
        error = await receive(communicator, "error")
        # Then
        assert (error["code"], error["max_bytes"]) == ("message_too_big", LIMIT)
        assert await closed_with(communicator) == 1009

    run(scenario)


def test_a_message_of_exactly_the_limit_is_read(site):
    async def scenario():
        communicator = await widget_open(site)
        frame = '{"type": "ping", "pad": "' + "€" * 6657 + "xx" + '"}'
        assert len(frame.encode()) == LIMIT
        # When
        await communicator.send_to(text_data=frame)
        # Then
        assert await receive(communicator) == {"type": "pong"}

    run(scenario)
