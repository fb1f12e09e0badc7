"""The Redis cache shares one client and connection pool per process (cea/common/cache.py): under
ASGI each request's context builds its own backend, which with Django's would open a connection."""

from __future__ import annotations

import contextvars
import threading

import redis
from django.core.cache import caches

from cea.common.cache import RedisCache


def _backend_in_a_new_context() -> RedisCache:
    """``caches["default"]`` as a new ASGI request sees it: in a context of its own, on a thread of its own."""
    found: list[RedisCache] = []
    thread = threading.Thread(target=contextvars.Context().run, args=(lambda: found.append(caches["default"]),))
    thread.start()
    thread.join()
    return found[0]


def test_backends_of_different_requests_share_one_client_and_one_pool():
    # Given: the backends two requests' contexts get
    first, second = _backend_in_a_new_context(), _backend_in_a_new_context()
    # Then: they are two backends (Django's context-local handler) over one client, one pool
    assert isinstance(first, RedisCache)
    assert first is not second
    assert first._cache is second._cache
    assert first._cache.get_client(write=True) is second._cache.get_client(write=True)
    assert isinstance(first._cache.get_client(write=True), redis.Redis)


def test_many_requests_reuse_the_pools_connections():
    # Given: the shared pool, and a value written through one request's backend
    backend = _backend_in_a_new_context()
    backend.set("cache-test-key", {"answer": 42}, 30)
    pool = backend._cache.get_client(write=True).connection_pool
    opened_before = len(pool._available_connections) + len(pool._in_use_connections)  # by earlier tests too
    # When: fifty requests, one after the other, each read it through a backend of its own
    values = [_backend_in_a_new_context().get("cache-test-key") for _ in range(50)]
    # Then: each read the value, and the pool opened no connection for them (one at a time needs the one it has)
    assert values == [{"answer": 42}] * 50
    assert opened_before >= 1
    assert len(pool._available_connections) + len(pool._in_use_connections) == opened_before
    backend.delete("cache-test-key")
