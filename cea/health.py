"""GET /health/: is each part of the platform answering? PostgreSQL, Redis, and a Celery worker.

Two probes for load balancers and orchestrators (docs/deploying.md), never cached either:

- GET /health/live/: liveness. The process answers; nothing else is asked (no database, no Redis),
  so a dependency's outage never gets every web process restarted at once. Always 200.
- GET /health/ready/: readiness of a web process. PostgreSQL and Redis answer (a Celery worker is
  not this process's business: a web process serves while the workers restart). 200 or 503, each
  check bounded (``READY_TIMEOUT_SECONDS``: a connection from the pool, Redis's connect and read).

Anyone may ask, so an anonymous caller gets only the status (``ok`` or ``failing``, 200 or 503),
and the worker's answer to a Celery ping — a broadcast on the broker — is reused for
``HEALTH_WORKER_CACHE_SECONDS``, so a stream of anonymous probes costs two cheap round trips
each. Supervisors, admins and API tokens get each check with its timing and, on failure, the
reason; their worker check is fresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from cea.accounts.authentication import ApiTokenAuthentication
from cea.celery import app as celery_app
from cea.common.roles import can_supervise

CELERY_PING_TIMEOUT = 1.0
READY_TIMEOUT_SECONDS = 2.0


def _postgres() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _postgres_bounded() -> dict:
    """``SELECT 1`` on a connection of the pool, waiting at most ``READY_TIMEOUT_SECONDS`` for one
    (the pool's own timeout, CEA_DB_POOL_TIMEOUT, is meant for requests and may be longer than a
    probe's). Without the pool, as ``_postgres``."""
    pool = getattr(connection, "pool", None)  # PostgreSQL's wrapper: None without the pool
    if pool is None or connection.connection is not None:  # no pool, or this thread holds one already
        return _postgres()
    borrowed = pool.getconn(timeout=READY_TIMEOUT_SECONDS)
    try:
        borrowed.execute("SELECT 1").fetchone()
        borrowed.rollback()  # back to the pool idle, not inside a transaction
    finally:
        pool.putconn(borrowed)
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
READY_CHECKS: dict[str, Callable[[], dict]] = {"postgres": _postgres_bounded, "redis": _redis}


class _RecentResult:
    """The last result of one check in this process, reused while it is fresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result: dict | None = None
        self._at = 0.0

    def get(self, max_age: float) -> dict | None:
        with self._lock:
            if self._result is not None and time.monotonic() - self._at < max_age:
                return self._result
            return None

    def put(self, result: dict) -> None:
        with self._lock:
            self._result, self._at = result, time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._result = None


recent_worker_check = _RecentResult()


def _run(name: str, check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        result = {"ok": True, **check()}
    except Exception as exc:  # a health check reports every failure, whatever its type
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _may_see_details(request: HttpRequest) -> bool:
    """Supervisors and admins signed in, or any valid API token (an integrator's monitoring)."""
    if can_supervise(request.user):
        return True
    try:
        return ApiTokenAuthentication().authenticate(request) is not None
    except AuthenticationFailed:
        return False


@never_cache
@require_GET
def health(request):
    """200 when every check passes, 503 otherwise; the checks and reasons for staff and tokens."""
    detailed = _may_see_details(request)
    results = {}
    for name, check in CHECKS.items():
        if name != "celery":
            results[name] = _run(name, check)
            continue
        cached = None if detailed else recent_worker_check.get(settings.HEALTH_WORKER_CACHE_SECONDS)
        results[name] = cached or _run(name, check)
        if cached is None:
            recent_worker_check.put(results[name])
    healthy = all(result["ok"] for result in results.values())
    body: dict = {"status": "ok" if healthy else "failing"}
    if detailed:
        body["checks"] = results
    return JsonResponse(body, status=200 if healthy else 503)


def _answer(request: HttpRequest, results: dict[str, dict]) -> JsonResponse:
    healthy = all(result["ok"] for result in results.values())
    body: dict = {"status": "ok" if healthy else "failing"}
    if _may_see_details(request):
        body["checks"] = results
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def live(request):
    """Liveness: 200 while the process answers requests. Asks nothing of PostgreSQL or Redis."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    """Readiness: 200 when PostgreSQL and Redis answer, 503 otherwise; the checks for staff and tokens."""
    return _answer(request, {name: _run(name, check) for name, check in READY_CHECKS.items()})
