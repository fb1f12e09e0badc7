"""Celery's Redis broker transport: kombu's, except that a worker survives Redis restarting under it.

When the broker connection drops with tasks in flight (acks late: their messages are unacked),
Celery closes the connection before it reconnects, and closing a channel puts its unacked messages
back in the queue. kombu's Redis channel has by then dropped its connection pool, and builds a new
one from its transport's connection, which a close before it may already have cleared: the build
raises ``AttributeError`` ('NoneType' object has no attribute 'hostname'), which no error handler
on that path expects, and the worker stops with "Unrecoverable error" (kombu 5.7, the same class of
race as celery/kombu#582 and #659; reproduced here with a Redis restarted under a worker while
tasks flow: docs/performance.md, "The worker through Redis restarts").

Here a channel whose connection is gone raises redis-py's ``ConnectionError`` instead, one of the
broker's connection errors, which Celery's close ignores as it ignores every other one while the
broker is away; the worker then reconnects as usual. The messages it could not put back stay in
kombu's unacked index in Redis and return to the queue after the visibility timeout, as those of a
killed worker do (and the sweeps re-send what waits on them: docs/architecture.md).

``CELERY_BROKER_TRANSPORT`` names this class; ``redis://``, ``rediss://`` and socket URLs all go
through it (kombu's one Redis transport serves them all).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("The broker connection was closed while this channel needed it.")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
