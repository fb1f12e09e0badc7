"""The Redis connection of the Channels layer: redis-py's, except that a cancellation is never lost.

redis-py writes each command under ``asyncio.wait_for`` when a socket timeout is set (the layer's
is: cea/settings.py). On Python 3.11, ``wait_for`` returns the result instead of raising when its
task is cancelled in the same step as the write completes (CPython gh-86296, fixed in 3.12). The
cancellation is then gone: a consumer's ``RedisChannelLayer.receive``, cancelled when its socket
closes or the server stops, carries on with channels-redis's 5 s BZPOPMIN loop for ever, and
whatever waits for the consumer to finish (``asyncio.run``, so ``async_to_sync``) waits for ever.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Connection


class CancellableConnection(Connection):
    """Raises the ``CancelledError`` that ``wait_for`` swallowed while a command was written."""

    async def send_packed_command(self, command, check_health: bool = True) -> None:
        task = asyncio.current_task()
        cancels_before = task.cancelling() if task is not None else 0
        await super().send_packed_command(command, check_health)
        if task is not None and task.cancelling() > cancels_before:
            # The command went out but its reply will not be read: the connection cannot be reused.
            await self.disconnect(nowait=True)
            raise asyncio.CancelledError
