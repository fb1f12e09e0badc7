"""API throttles: how many requests a client may make in a period, counted in the default cache (Redis).

Every API request counts against the ``default`` rate of its client (an API token, a signed-in user,
or, for the anonymous signed webhooks, the client's address: ``cea.common.client_ip``); a view that
declares ``throttle_scope`` also counts against that scope's tighter rate. The rates are
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``cea/settings.py``, from the environment), read on
each request. A refused request is answered 429 with ``Retry-After`` by the API's exception handler
(``cea.common.api``).

A window opens at a client's first request and lasts the rate's period: one Lua script increments
the count and sets the expiry atomically, so parallel requests in any number of processes all count,
and the time until the window closes is the ``Retry-After``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from cea.common.client_ip import client_ip
from cea.common.env import parse_rate

# KEYS[1] the window's counter; ARGV[1] the window in milliseconds. Returns {count, milliseconds left}.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""


@lru_cache(maxsize=4)
def _count_script(location: str):
    return redis.Redis.from_url(location).register_script(_COUNT)


def client_key(request) -> str:
    """Whose budget a request spends: its API token's, else its signed-in user's, else its address's."""
    token_id = getattr(request.auth, "pk", None)
    if token_id is not None:
        return f"token:{token_id}"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"address:{client_ip(request)}"


class _RateThrottle(BaseThrottle):
    def scope_for(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        scope = self.scope_for(request, view)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope) if scope else None
        if not rate:
            return True
        limit, period = parse_rate(rate)
        key = cache.make_key(f"throttle:{scope}:{client_key(request)}")
        count, left_ms = _count_script(settings.CACHES["default"]["LOCATION"])(keys=[key], args=[period * 1000])
        self.retry_after = max(1, math.ceil(int(left_ms) / 1000))
        return int(count) <= limit

    def wait(self) -> int:
        return self.retry_after


class DefaultRateThrottle(_RateThrottle):
    """Every request: ``default`` per token or user, ``anonymous`` per client address."""

    def scope_for(self, request, view) -> str:
        return "default" if request.user is not None and request.user.is_authenticated else "anonymous"


class ScopedRateThrottle(_RateThrottle):
    """The view's ``throttle_scope``: a name, or a mapping of HTTP method to name (``{"GET": "lookup"}``)."""

    def scope_for(self, request, view) -> str | None:
        scope = getattr(view, "throttle_scope", None)
        if isinstance(scope, dict):
            return scope.get(request.method)
        return scope
