"""Websocket consumers' database calls, run concurrently on a bounded pool of threads.

Channels' ``database_sync_to_async`` is thread-sensitive by default: every consumer of a process
runs its database calls on one shared thread, so under load each visitor's message waits for
every other connection's calls (200 visitors starting chats at once waited 7.3 s for their acks;
docs/performance.md). ``consumer_db(func)`` runs ``func`` on one of ``CEA_WS_DB_THREADS`` threads
of the process instead, and like Channels closes old connections before and after each call, so
each call borrows a connection from the pool (cea/settings.py) and gives it back when it ends:
the threads never hold more connections than there are threads, and a broken connection is
dropped rather than reused.

Order is unchanged: a consumer handles its frames and events one at a time (Channels'
``await_many_dispatch`` awaits each dispatch before reading the next), so one connection's calls
still run one after another, in the order its frames came; only different connections' calls
now overlap. A call must therefore be one unit of work on its own (a transaction, no state kept
in the thread between calls), which is what the consumers' service functions already are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.db import DatabaseSyncToAsync
from django.conf import settings

R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def consumer_db_executor() -> ThreadPoolExecutor:
    """The process's threads for consumers' database calls, made on first use (after any fork)."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    max_workers=settings.CEA_WS_DB_THREADS, thread_name_prefix="cea-consumer-db"
                )
    return _executor


def consumer_db(func: Callable[..., R]) -> Callable[..., Any]:
    """``await consumer_db(func)(*args, **kwargs)``: ``func`` on a consumer database thread, with a
    pooled connection borrowed for the call and returned after it."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=consumer_db_executor())
