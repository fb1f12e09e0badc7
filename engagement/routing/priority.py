"""A waiting item's priority: who the customer is, how sure we are of it, how they feel, how long they wait.

Points add up, each with its reason kept on the item (``priority_reasons``) so a supervisor can
see why one contact went before another. Ageing adds ``queue.ageing_per_minute`` points per
minute waited, so no item starves behind a stream of higher-priority work.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

TIER_POINTS = {"platinum": 40, "gold": 25, "silver": 10, "standard": 0}
LEVEL_POINTS = {"verified": 10, "identified": 5, "anonymous": 0}
CHURN_RISK_POINTS = 30  # × churn risk from 0 to 1 (written by insights)
NEGATIVE_SENTIMENT_POINTS = 20  # × how negative, from 0 to 1 (sentiment -1 … 1, written by insights)
BOOST_LIMIT = 50  # a context's ``priority_boost`` is clamped to ±50
SLA_POINTS = 60  # back-office work at (or past) its SLA due time; rising linearly over the window before it


def _number(value) -> float | None:
    """``value`` as a finite number, or ``None`` (booleans, text, NaN and infinities count for nothing)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too big for a float (JSON allows it)
        return None
    # NaN would survive the clamps below and make round() raise: a contact must never fail to queue.
    return number if math.isfinite(number) else None


def sla_points(*, due_at: datetime, now: datetime, window_minutes: int) -> int:
    """Points for work due at ``due_at``: none until ``window_minutes`` before it, then rising linearly
    to ``SLA_POINTS`` at the due time, and ``SLA_POINTS`` once it is overdue."""
    minutes_left = (due_at - now).total_seconds() / 60.0
    if minutes_left >= window_minutes:
        return 0
    share = 1.0 if minutes_left <= 0 else 1.0 - minutes_left / window_minutes
    return round(SLA_POINTS * share)


def _due_at(value) -> datetime | None:
    """A context's ``sla_due_at`` (a Unix time in seconds: the context store redacts digit runs in
    text, so a due time is kept as a number) as an aware datetime, or ``None``."""
    number = _number(value)
    if number is None:
        return None
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def priority_of(
    *, base: int, customer, verification_level: str, context: dict, now: datetime | None = None
) -> tuple[int, dict]:
    """``(points, reasons)`` for a contact; ``customer`` may be ``None`` (anonymous).

    Back-office work's context carries ``sla_due_at`` (Unix seconds): its ``sla`` points rise as ``now`` nears it
    (``sla_points``), so a beat task recomputes waiting back-office work's priority every minute.
    """
    reasons: dict[str, int] = {}
    if base:
        reasons["queue"] = base
    if customer is not None:
        if points := TIER_POINTS.get(customer.value_tier, 0):
            reasons["value_tier"] = points
        scores = customer.scores if isinstance(customer.scores, dict) else {}
        churn = _number(scores.get("churn_risk"))
        if churn is not None and (points := round(CHURN_RISK_POINTS * min(max(churn, 0.0), 1.0))):
            reasons["churn_risk"] = points
        sentiment = _number(scores.get("sentiment"))
        if (
            sentiment is not None
            and sentiment < 0
            and (points := round(NEGATIVE_SENTIMENT_POINTS * min(-sentiment, 1.0)))
        ):
            reasons["sentiment"] = points
    if points := LEVEL_POINTS.get(verification_level, 0):
        reasons["verification"] = points
    context = context if isinstance(context, dict) else {}
    live_sentiment = _number(context.get("sentiment"))
    if (
        live_sentiment is not None
        and live_sentiment < 0
        and "sentiment" not in reasons
        and (points := round(NEGATIVE_SENTIMENT_POINTS * min(-live_sentiment, 1.0)))
    ):
        reasons["sentiment"] = points
    due_at = _due_at(context.get("sla_due_at"))
    if due_at is not None and (
        points := sla_points(
            due_at=due_at, now=now or timezone.now(), window_minutes=settings.CEA_BACKOFFICE_SLA_WINDOW_MINUTES
        )
    ):
        reasons["sla"] = points
    boost = _number(context.get("priority_boost"))
    if boost is not None and (points := round(min(max(boost, -BOOST_LIMIT), BOOST_LIMIT))):
        reasons["boost"] = points
    return sum(reasons.values()), reasons


def rank_of(*, priority: int, ageing_per_minute: float, enqueued_at: datetime) -> float:
    """A key that sorts waiting items as ``priority + ageing × minutes waited`` does at any moment.

    ``priority + r × (now − t₀)/60`` orders like ``priority − r × t₀/60``: ``now`` is the same
    for every item, so it drops out and the key can be stored and indexed.
    """
    return priority - ageing_per_minute * enqueued_at.timestamp() / 60.0


def effective_priority(*, rank: float, ageing_per_minute: float, now: datetime) -> float:
    """The priority an item has ``now`` (its rank plus ageing): comparable across queues."""
    return rank + ageing_per_minute * now.timestamp() / 60.0
