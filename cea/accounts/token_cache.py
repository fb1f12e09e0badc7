"""A short-lived cache of authenticated API tokens in Redis, so that a token request reads no token row.

Every API request made with a token used to read its row and its user's (one query, compiled by
the ORM each time): the largest single cost of a trivial request (docs/performance.md, issue 17).
The cache keeps that token and its user for ``CEA_API_TOKEN_CACHE_SECONDS`` (0: off), keyed by
the SHA-256 digest of the token's secret (the value the database stores too), so only a token
that authenticated once is ever cached and the key reveals nothing the database does not.

What stays exactly as without the cache:

- the presented secret is checked against the cached digest, and the token's expiry, revocation
  and its user's ``is_active`` are checked on every request (expiry takes effect at once);
- any save or delete of a token or of its user — revocation, deactivation, a new role, the
  admin's edits — invalidates the entries of that user's tokens (signals in ``cea.accounts.apps``),
  at once and again when the transaction commits;
- an invalidation leaves a tombstone for ``TOMBSTONE_SECONDS`` and entries are only added where
  no key exists (``SET NX``), so a request that read the row before a revocation committed cannot
  put the old row back afterwards;
- ``last_used_at`` is still written at most once a minute: an entry expires before the use it
  recorded is a minute old, and the next request reads the row and records its use.

A write that bypasses the models' signals (``QuerySet.update()`` or raw SQL on the token or user
tables) is seen within ``CEA_API_TOKEN_CACHE_SECONDS``: use the services, or call
``api_token_cache_forget_user`` after such a write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

if TYPE_CHECKING:
    from cea.accounts.models import ApiToken

KEY_PREFIX = "apitoken:"
TOMBSTONE = "revoked-or-changed"
TOMBSTONE_SECONDS = 30
LAST_USED_INTERVAL_SECONDS = 60


def _key(digest: str) -> str:
    return f"{KEY_PREFIX}{digest}"


def cache_seconds() -> int:
    return settings.CEA_API_TOKEN_CACHE_SECONDS


def cached_token(digest: str) -> ApiToken | None:
    """The cached token (with its user) for this digest, or None: not cached, tombstoned or caching off."""
    if not cache_seconds():
        return None
    entry = cache.get(_key(digest))
    if entry is None or entry == TOMBSTONE:
        return None
    return entry


def remember_token(token: ApiToken) -> None:
    """Cache an active token just read from the database, unless an invalidation is in its way."""
    seconds = cache_seconds()
    if not seconds:
        return
    if token.last_used_at is not None:
        # Expire before the recorded use is a minute old, so that the next use is written.
        age = (timezone.now() - token.last_used_at).total_seconds()
        seconds = min(seconds, int(LAST_USED_INTERVAL_SECONDS - age))
    if seconds >= 1:
        cache.add(_key(token.digest), token, timeout=seconds)  # SET NX: never over a tombstone


def forget_digests(digests: list[str]) -> None:
    """Tombstone these tokens' entries now and again when the current transaction commits."""
    if not digests:
        return
    keys = {_key(digest): TOMBSTONE for digest in digests}
    cache.set_many(keys, timeout=TOMBSTONE_SECONDS)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.set_many(keys, timeout=TOMBSTONE_SECONDS))


def api_token_cache_forget_user(*, user_id: int) -> None:
    """Invalidate the cached entries of every token of this user (after a write the signals did not see)."""
    from cea.accounts.models import ApiToken

    forget_digests(list(ApiToken.objects.filter(user_id=user_id).values_list("digest", flat=True)))


# --- Signal receivers (connected in cea.accounts.apps) -------------------------------------------


def token_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created:  # a new token was never cached, nor read before it existed
        forget_digests([instance.digest])


def user_changed(sender, instance, **kwargs) -> None:
    if instance.pk is not None:
        api_token_cache_forget_user(user_id=instance.pk)
