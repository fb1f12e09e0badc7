"""Backoff for the integration layer's retries (webhook deliveries, write-backs)."""

from __future__ import annotations

import random


def backoff_seconds(*, attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """How long to wait before attempt ``attempt + 1``, after ``attempt`` (1-based) failed.

    Exponential with "equal jitter": the ceiling ``base * 2**(attempt - 1)`` (at most ``cap``)
    halved plus a random part up to the other half, so retries of many items after one outage
    spread out instead of arriving together. A ``retry_after`` the other side asked for (429,
    503 ``Retry-After``) is honoured as a minimum, up to ``cap``.
    """
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), cap))
    return round(delay, 3)
