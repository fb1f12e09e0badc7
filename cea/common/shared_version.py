"""A version token in the shared cache (Redis) that tells every process when to reload what it
keeps in memory (the strategy index, the redaction policy): read it, compare, reload on change."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction


def shared_version(key: str) -> str:
    """The current version under ``key`` (made on first read, kept without expiry)."""
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key)
    return str(version)


def shared_version_bump(key: str, *, forget: Callable[[], None]) -> None:
    """A new version under ``key``, and ``forget()`` this process's copy: now, and again once the
    open transaction commits (another process reloading in between would read the old rows)."""

    def bump() -> None:
        forget()
        cache.set(key, uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump)
