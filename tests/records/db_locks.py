"""Waiting for PostgreSQL sessions to queue on a lock: how concurrency tests line up a race without sleeping."""

from __future__ import annotations

import time

from django.db import connection


def wait_for_lock_waiters(count: int, *, timeout: float = 30.0) -> None:
    """Return once ``count`` sessions of this test database wait on a lock; fail after ``timeout`` seconds.

    Polls ``pg_stat_activity`` (clearing its per-transaction snapshot each time) from the caller's connection.
    """
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
    raise AssertionError(f"{count} sessions never queued on the lock")
