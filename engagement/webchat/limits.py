"""Limits of the anonymous web chat, per client address and per site key, counted in Redis.

- **Connections at once**: each connection holds a place in two sorted sets (its address's and its
  site key's), scored by when the place lapses. The consumer renews its places every
  ``KEEP_EVERY_SECONDS`` and gives them back when it closes; a place of a process that died lapses
  after ``PLACE_SECONDS``. Checking and taking are one Lua script, so concurrent connections cannot
  both take the last place.
- **New conversations a minute**: two counters that start a 60 s window at their first conversation.

Limits are settings (``CEA_WEBCHAT_*``); a refusal is ``WebchatLimitReached`` (HTTP status 429).
"""

from __future__ import annotations

import math
from functools import lru_cache

import redis
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cea.common.errors import ApplicationError

PLACE_SECONDS = 90
KEEP_EVERY_SECONDS = 30
CONVERSATION_WINDOW_SECONDS = 60


class WebchatLimitReached(ApplicationError):
    """Too many connections or conversations from one address or for one site key."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, code: str, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


# KEYS: the address's and the site key's places. ARGV: connection, address limit, site limit, seconds.
# Returns 0 when a place was taken in both, else the index (1, 2) of the set that is full.
_TAKE_PLACE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('ZCARD', KEYS[i]) >= limits[i] then
    return i
  end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now + tonumber(ARGV[4]), ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
return 0
"""

# KEYS: the address's and the site key's places. ARGV: connection, seconds.
_KEEP_PLACE = """
local clock = redis.call('TIME')
local lapses = tonumber(clock[1]) + tonumber(ARGV[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'XX', lapses, ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return 0
"""

# KEYS: the address's and the site key's counters. ARGV: address limit, site limit, window in ms.
# Returns {0, 0} when counted, else {index of the full counter, ms until its window ends}.
_COUNT_CONVERSATION = """
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    return {i, redis.call('PTTL', KEYS[i])}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
end
return {0, 0}
"""


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


@lru_cache(maxsize=3)
def _script(source: str):
    return _client().register_script(source)


def _keys(kind: str, *, site_key: str, ip: str) -> list[str]:
    prefix = f"{settings.REDIS_PREFIX}:webchat:{kind}"
    return [f"{prefix}:ip:{ip}", f"{prefix}:site:{site_key}"]


def webchat_connection_admit(*, site_key: str, ip: str, connection: str) -> None:
    """Take a place for ``connection``, or ``WebchatLimitReached`` (``too_many_connections``)."""
    full = _script(_TAKE_PLACE)(
        keys=_keys("connections", site_key=site_key, ip=ip),
        args=[
            connection,
            settings.CEA_WEBCHAT_CONNECTIONS_PER_IP,
            settings.CEA_WEBCHAT_CONNECTIONS_PER_SITE,
            PLACE_SECONDS,
        ],
    )
    if full:
        message = (
            _("Too many chat connections from your network are open; try again later.")
            if full == 1
            else _("Too many chat connections to this website's chat are open; try again later.")
        )
        raise WebchatLimitReached(message, code="too_many_connections")


def webchat_connection_keep(*, site_key: str, ip: str, connection: str) -> None:
    """Renew the places of a connection that is still open."""
    _script(_KEEP_PLACE)(keys=_keys("connections", site_key=site_key, ip=ip), args=[connection, PLACE_SECONDS])


def webchat_connection_release(*, site_key: str, ip: str, connection: str) -> None:
    """Give back the places of a connection that closed."""
    pipeline = _client().pipeline()
    for key in _keys("connections", site_key=site_key, ip=ip):
        pipeline.zrem(key, connection)
    pipeline.execute()


def _count_in_window(*, kind: str, site_key: str, ip: str, limits: tuple[int, int], code: str, refusal: str) -> None:
    """Count one ``kind`` for the address and the site key in their 60 s windows, or ``WebchatLimitReached``."""
    full, remaining_ms = _script(_COUNT_CONVERSATION)(
        keys=_keys(kind, site_key=site_key, ip=ip), args=[*limits, CONVERSATION_WINDOW_SECONDS * 1000]
    )
    if full:
        retry_after = max(1, math.ceil(int(remaining_ms) / 1000)) if int(remaining_ms) > 0 else 1
        raise WebchatLimitReached(
            _(refusal) % {"seconds": retry_after},  # marked with gettext_noop by the caller
            code=code,
            retry_after=retry_after,
        )


def webchat_conversation_admit(*, site_key: str, ip: str) -> None:
    """Count a new conversation, or ``WebchatLimitReached`` (``too_many_conversations``, with ``retry_after``)."""
    _count_in_window(
        kind="conversations",
        site_key=site_key,
        ip=ip,
        limits=(
            settings.CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE,
            settings.CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE,
        ),
        code="too_many_conversations",
        refusal=gettext_noop("Too many new chats have started in the last minute; try again in %(seconds)s s."),
    )


def webchat_attachment_admit(*, site_key: str, ip: str) -> None:
    """Count a file sent from the widget, or ``WebchatLimitReached`` (``too_many_files``, with ``retry_after``)."""
    _count_in_window(
        kind="attachments",
        site_key=site_key,
        ip=ip,
        limits=(
            settings.CEA_WEBCHAT_ATTACHMENTS_PER_IP_PER_MINUTE,
            settings.CEA_WEBCHAT_ATTACHMENTS_PER_SITE_PER_MINUTE,
        ),
        code="too_many_files",
        refusal=gettext_noop("Too many files were sent in the last minute; try again in %(seconds)s s."),
    )
