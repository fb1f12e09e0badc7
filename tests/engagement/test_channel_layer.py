"""The Channels layer as configured (cea/settings.py): a consumer's receive always ends when cancelled.

On Python 3.11 redis-py could lose the cancellation while it wrote a command (cea/common/redis_connection.py);
the receive then went on polling Redis for ever, and so did whatever waited for the consumer to finish.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


def test_a_cancelled_receive_ends_whenever_the_cancellation_arrives():
    layer = get_channel_layer()

    async def scenario() -> list[float]:
        still_running = []
        # Cancel at many points of a receive's life: connecting, writing its commands, blocking in BZPOPMIN.
        for step in range(60):
            channel = await layer.new_channel()
            receiving = asyncio.ensure_future(layer.receive(channel))
            await asyncio.sleep(step / 6000)
            receiving.cancel()
            done, _ = await asyncio.wait([receiving], timeout=3)
            if not done:
                still_running.append(step / 6000)
                receiving.cancel()  # a second request gets through; the test must not hang either
        return still_running

    assert asyncio.run(scenario()) == []
