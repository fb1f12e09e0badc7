"""Live pushes to browsers, sent only after the surrounding transaction commits.

Like Zulip's ``send_event_on_commit``: a push describing a change must never arrive before the
change is visible, nor arrive for a change that rolled back.

Sync code (views, services, Celery tasks) sends through one long-lived event loop per process,
on a daemon thread. ``async_to_sync(group_send)`` would start a fresh loop, and with it fresh
Redis connections in channels-redis, for every push: measured at ~13 ms a push against ~0.5 ms
this way (docs/performance.md, bench/context.py). The pushes of a process go out one after the
other, in the order they were made, whether the caller waits for its push (``push_now``, the
default) or not (``push_soon``, ``push_on_commit(..., wait=False)``: a hot path such as a context
write does not pay the Redis round trip; the process waits for what is left at exit).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

PUSH_TIMEOUT_SECONDS = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_tail: asyncio.Future | None = None  # the latest push of the chain; touched on the push loop only
_flush_registered = False


def _push_loop() -> asyncio.AbstractEventLoop:
    """This process's push loop, started on first use (and again after a fork, e.g. Celery's prefork)."""
    global _loop, _loop_pid, _tail
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or not _loop.is_running():
            _tail = None
            loop = asyncio.new_event_loop()
            started = threading.Event()
            loop.call_soon(started.set)
            threading.Thread(target=loop.run_forever, name="cea-live-push", daemon=True).start()
            started.wait()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


async def _send_after(previous: asyncio.Future | None, group: str, event: dict[str, Any]) -> None:
    if previous is not None:
        await asyncio.wait([previous])  # its outcome is its own; only its place in the order matters
    layer = get_channel_layer()
    if layer is not None:
        await asyncio.wait_for(layer.group_send(group, event), PUSH_TIMEOUT_SECONDS)


async def _in_order(group: str, event: dict[str, Any]) -> None:
    """On the push loop: send after every push made before (the chain), and wait for this one."""
    global _tail
    _tail = asyncio.ensure_future(_send_after(_tail, group, event))
    await asyncio.shield(_tail)


def push_now(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to the Channels ``group`` now, from sync code, and wait until it is sent. A failed
    push is logged, not raised: the change it describes has already happened."""
    if get_channel_layer() is None:
        return
    future = asyncio.run_coroutine_threadsafe(_in_order(group, event), _push_loop())
    try:
        future.result(timeout=PUSH_TIMEOUT_SECONDS * 2)
    except Exception:  # a push must never undo or fail the change it reports
        future.cancel()
        logger.exception("Live push to %s failed", group)


def push_soon(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to the Channels ``group`` after the pushes made before it, without waiting.
    A failed push is logged."""
    global _flush_registered
    if get_channel_layer() is None:
        return
    if not _flush_registered:
        _flush_registered = True
        atexit.register(_flush)
    future = asyncio.run_coroutine_threadsafe(_in_order(group, event), _push_loop())
    future.add_done_callback(_log_soon_failure(group))


def _log_soon_failure(group: str) -> Callable[[Any], None]:
    def logged(future) -> None:
        if not future.cancelled() and future.exception() is not None:
            logger.error("Live push to %s failed", group, exc_info=future.exception())

    return logged


def _flush() -> None:
    """At exit: let the pushes still on their way go out (a command or a task that wrote just before)."""

    async def drained() -> None:
        if _tail is not None:
            await asyncio.wait([_tail])

    if _loop is not None and _loop_pid == os.getpid() and _loop.is_running():
        try:
            asyncio.run_coroutine_threadsafe(drained(), _loop).result(timeout=PUSH_TIMEOUT_SECONDS)
        except Exception:
            logger.warning("Live pushes still pending at exit were dropped")


def push_on_commit(group: str, event: dict[str, Any], *, wait: bool = True) -> None:
    """Send ``event`` to the Channels ``group`` once the current transaction commits; ``wait=False``:
    the committing thread does not wait for Redis (``push_soon``)."""
    transaction.on_commit(lambda: (push_now if wait else push_soon)(group, event))


# --- Every live socket of one user ------------------------------------------------------------

# Why a user's sockets are closed (``user.access_changed``'s ``reason``): the first three end the
# sign-in (the client must sign in again); the others change what the user may see (the client
# reconnects and subscribes again under the new rules).
SIGNED_OUT = "signed_out"
DEACTIVATED = "deactivated"
PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason code, not a password
ROLE_CHANGED = "role_changed"
TEAMS_CHANGED = "teams_changed"
ACCESS_CHANGES = (SIGNED_OUT, DEACTIVATED, PASSWORD_CHANGED, ROLE_CHANGED, TEAMS_CHANGED)


def user_group(user_id: int) -> str:
    """The Channels group every authenticated socket of the user joins."""
    return f"user.{int(user_id)}"


def user_sockets_close_on_commit(*, user_id: int, reason: str) -> None:
    """Close every live socket of the user once the current transaction commits.

    Called by the services that sign a user out or change their access (``cea.accounts.services``):
    a socket checks access when it subscribes, so it must not outlive a change that takes it away.
    """
    if reason not in ACCESS_CHANGES:
        raise ValueError(f"Unknown reason {reason!r}; one of {', '.join(ACCESS_CHANGES)}.")
    push_on_commit(user_group(user_id), {"type": "user.access_changed", "reason": reason})


# --- Coalesced pushes: "something changed", at most once per interval per group and event ------


class Throttle:
    """At most one firing per key every ``interval`` seconds, and no change left without one after it.

    ``change(key)`` records a change and says when to fire: ``0`` at once (nothing fired within
    the interval), the seconds until the interval is over, or ``None`` when a firing is already
    due (the change rides on it). The caller fires after that delay and calls ``fired(key)``
    *before* it reads the state it reports, so a change made while it reads is a new change.
    ``clock`` is a monotonic clock in seconds (a test passes one it controls). Not thread-safe:
    one event loop or one thread owns a throttle.
    """

    def __init__(self, interval: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.last_fired: dict[str, float] = {}
        self.due: set[str] = set()

    def change(self, key: str) -> float | None:
        if key in self.due:
            return None
        self.due.add(key)
        last = self.last_fired.get(key)
        return 0.0 if last is None else max(0.0, last + self.interval - self.clock())

    def fired(self, key: str) -> None:
        self.due.discard(key)
        self.last_fired[key] = self.clock()


COALESCE_SECONDS = 1.0
# This process's throttle of coalesced pushes, owned by the push loop's thread.
_coalesced = Throttle(COALESCE_SECONDS)


def coalesce_key(group: str, event: dict[str, Any]) -> str:
    """The throttle's key of ``event`` sent to ``group``: the group and the event's content, so that
    only identical events coalesce (two kinds of hint to one group each get their push)."""
    return f"{group} {json.dumps(event, sort_keys=True, separators=(',', ':'))}"


def push_coalesced_on_commit(group: str, event: dict[str, Any]) -> None:
    """Once the transaction commits, tell ``group`` that something changed: at most once a second per
    group and event from this process, and always once after the last change.

    For events that say "read again" and carry no state that changes from one to the next (the
    same event again says nothing new), so that a burst of changes (a thousand agents, a hundred
    queues) is one push. Different events to one group (``{"what": "agents"}`` and ``{"what":
    "conversations"}``) are throttled apart: neither rides on, nor delays, the other.
    The committing thread does not wait: the push loop sends it. Each send adds ``push`` to the
    event: an id of that send (``_send_coalesced``).
    """
    key = coalesce_key(group, event)
    transaction.on_commit(lambda: _push_loop().call_soon_threadsafe(_coalesce, key, group, event))


def _coalesce(key: str, group: str, event: dict[str, Any]) -> None:
    """On the push loop: send ``event`` to ``group`` when the throttle says, unless a send is already due.

    The send reports to the throttle that scheduled it: were the process's throttle replaced in
    between (a test's), the key it left due would otherwise never be cleared and swallow every
    later change of that group and event.
    """
    throttle = _coalesced
    delay = throttle.change(key)
    if delay is not None:
        asyncio.get_running_loop().call_later(delay, _send_coalesced, throttle, key, group, event)


def _send_coalesced(throttle: Throttle, key: str, group: str, event: dict[str, Any]) -> None:
    """Send ``event`` with ``push``: an id of this send, the same in every member's copy, so that the
    members in one process can tell one push from the next (the wallboards of one team share a read)."""
    throttle.fired(key)
    layer = get_channel_layer()
    if layer is not None:
        task = asyncio.ensure_future(layer.group_send(group, {**event, "push": secrets.token_hex(8)}))
        task.add_done_callback(_log_failure(group))


def _log_failure(group: str) -> Callable[[asyncio.Future[None]], None]:
    def logged(task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("Coalesced push to %s failed", group, exc_info=task.exception())

    return logged


# --- The supervisors' pages -------------------------------------------------------------------

# Every socket of the supervisors' overview (ws/supervision/) is in this group. Its events carry no
# data, only what changed ("conversations" or "agents"): each page reads again what its user may see.
# They are coalesced per kind (a burst of routing is one hint a second, and the committing thread
# does not wait for Redis).
SUPERVISION_GROUP = "supervision"
SUPERVISION_CHANGES = ("conversations", "agents")


def supervision_hint_on_commit(*, what: str) -> None:
    """Once the current transaction commits, tell the supervisors' pages that live work or agents changed."""
    if what not in SUPERVISION_CHANGES:
        raise ValueError(f"Unknown change {what!r}; one of {', '.join(SUPERVISION_CHANGES)}.")
    push_coalesced_on_commit(SUPERVISION_GROUP, {"type": "supervision.changed", "what": what})
