"""GET /health/: is each part of the platform answering? PostgreSQL, Redis, and a Celery worker."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cea.celery import app as celery_app

CELERY_PING_TIMEOUT = 1.0


def _postgres() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _redis() -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _celery() -> dict:
    # limit=1: answer as soon as one worker replies instead of waiting out the timeout. A connection
    # of its own, closed afterwards: the ping's reply consumer would otherwise go back to the
    # process's broker pool still waiting on a BRPOP, and a process forked later (multiprocessing
    # runs kombu's after-fork clean-up) blocks for ever reading that shared socket.
    with celery_app.connection_for_read() as connection:
        replies = celery_app.control.ping(timeout=CELERY_PING_TIMEOUT, limit=1, connection=connection)
    if not replies:
        raise RuntimeError(f"no Celery worker answered a ping within {CELERY_PING_TIMEOUT:g}s")
    return {"worker": next(iter(replies[0]))}


CHECKS: dict[str, Callable[[], dict]] = {"postgres": _postgres, "redis": _redis, "celery": _celery}


@never_cache
@require_GET
def health(request):
    """200 when every check passes, 503 with the failing check's reason otherwise."""
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            details = check()
            results[name] = {"ok": True, **details}
        except Exception as exc:  # a health check reports every failure, whatever its type
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse({"status": "ok" if healthy else "failing", "checks": results}, status=200 if healthy else 503)
