"""Django's Redis cache with one connection pool per process, not one per request.

``django.core.cache.caches`` keeps its backends in a context-local (``asgiref.local.Local``, not
thread-critical): under ASGI every request, and every websocket consumer, runs in a context of its
own and so builds a new ``RedisCache``, whose client builds a new connection pool, whose first
command opens a new TCP connection to Redis (and the old ones linger until garbage-collected).
Sessions (``cached_db``), the API token cache and the throttles all read the cache on every
request: a connection a request.

``RedisCache`` here is Django's, except that the client — and with it the connection pool — is
shared by every backend instance of the same servers and options in the process, and that the
client keeps one ``redis.Redis`` per pool: Django builds a new one for every command, and
redis-py's constructor fills a table of ~170 response callbacks each time (about a third of a
cache read's CPU). redis-py's pool and client are thread-safe and start afresh in a forked child
(the pool checks the process id).
"""

# Django's redis backend keeps its servers, options, pools and client class in private attributes that
# django-stubs does not declare.
# mypy: disable-error-code="attr-defined"

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.utils.functional import cached_property


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client, handing out one ``redis.Redis`` per connection pool instead of one per command."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one: the second replaces the first, which still works.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    _clients: ClassVar[dict[tuple[tuple[str, ...], str], Any]] = {}
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._class(self._servers, **self._options)
                # Made here, under the lock, so that threads starting at once share one pool.
                client._get_connection_pool(write=True)
            return client
