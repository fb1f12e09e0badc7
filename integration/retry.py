"""Backoff for the integration layer's retries: sync runs, webhook deliveries, write-backs.

The one place the back-off rule lives; each caller brings its own base and cap (settings or
constants) and the ``Retry-After`` the other side sent.
"""

from __future__ import annotations

import random


def backoff_seconds(*, attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """How long to wait before attempt ``attempt + 1``, after ``attempt`` (1-based) failed.

    Exponential with "equal jitter": the ceiling ``base * 2**(attempt - 1)`` (at most ``cap``)
    halved plus a random part up to the other half, so retries of many items after one outage
    spread out instead of arriving together.

    A ``retry_after`` the other side asked for (429, 503 ``Retry-After``) is honoured as a
    minimum, but only up to ``cap``: a Retry-After beyond the cap is capped. The cap is what the
    operator chose as the longest wait worth keeping a run, delivery or message parked for; a
    system that asks for a day (or sends a mistaken date) gets asked again after ``cap``, and
    answers 429 again if it is still not ready, which costs one request, not a day's silence.
    """
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter, not security
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), cap))
    return round(delay, 3)
