"""Arbitration between the strategies eligible for a customer at one occasion, as decision hubs do it.

Each eligible strategy gets a priority, the product of four components, each visible and tunable:

- **propensity**: how likely the customer is to take the action. ``propensity_from = "score"`` (a
  sales action): the customer's ``scores["propensity"]`` (0..1, written by the scoring models);
  otherwise — or when the customer has no score — the strategy's observed success rate, smoothed
  towards ½ with a uniform prior: ``(successes + 1) / (tries + 2)`` (next best actions: accepted of
  offered, from engagement's recommendation outcomes; other actions: the treated customers who met
  the metric, from the effect; both refreshed by the effects task);
- **context weight**: ``context_weights[<the occasion's channel>]`` × ``context_weights["live"]`` when
  the customer is in a conversation now (1 for what is not said);
- **value** and **lever**: per strategy, set by administrators (console, API).

Eligible strategies are ranked by priority (then by key) per customer, occasion and pool: the
desk's next-best-action card (``CEA_ARBITRATION_NBA_TOP``, default 3) and the proactive actions
(every other kind, ``CEA_ARBITRATION_PROACTIVE_TOP``, default 1). The top N are acted on (or held
out by their own holdout); the rest are suppressed ``outranked``. A random control group of
customers (``CEA_ARBITRATION_CONTROL_PERCENT``, stable per customer) gets N eligible actions
chosen at random instead, recorded in the group ``control``: the uplift of arbitration is measured
against it (``insights.strategies.uplift``).

Pure functions: no database access here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from insights.strategies.models import ActionKind, PropensityFrom, Strategy
from insights.strategies.rules import bucket

DESK, PROACTIVE = "desk", "proactive"
LIVE = "live"
OUTRANKED = "outranked"


@dataclass(frozen=True)
class Occasion:
    """Where the customer is when the strategies are decided: the event's channel ('' for a time
    trigger) and whether they are in a conversation now (``None``: not read, no strategy weighs it)."""

    channel: str = ""
    live: bool | None = None


def pool_of(strategy: Strategy) -> str:
    return DESK if strategy.action_kind == ActionKind.NEXT_BEST_ACTION else PROACTIVE


def top_of(pool: str) -> int:
    return settings.CEA_ARBITRATION_NBA_TOP if pool == DESK else settings.CEA_ARBITRATION_PROACTIVE_TOP


def in_control(*, customer_id: int, percent: int | None = None) -> bool:
    """Whether the customer is in arbitration's random control group: a bucket 0–9999 from a hash of
    their id, below ``percent`` × 100 (``CEA_ARBITRATION_CONTROL_PERCENT`` by default). Stable."""
    percent = settings.CEA_ARBITRATION_CONTROL_PERCENT if percent is None else percent
    return bucket(f"arbitration-control:{customer_id}") < percent * 100


def observed_propensity(strategy: Strategy) -> float:
    """The strategy's observed success rate with a uniform prior: (successes + 1) / (tries + 2)."""
    return (strategy.observed_successes + 1) / (strategy.observed_tries + 2)


def propensity(strategy: Strategy, scores: dict[str, Any] | None) -> tuple[float, str]:
    """The propensity component and where it came from (``score`` or ``observed``)."""
    if strategy.propensity_from == PropensityFrom.SCORE:
        score = (scores or {}).get("propensity")
        if isinstance(score, int | float) and not isinstance(score, bool) and 0 <= score <= 1:
            return float(score), "score"
    return observed_propensity(strategy), "observed"


def context_weight(strategy: Strategy, occasion: Occasion) -> float:
    weights = strategy.context_weights or {}
    weight = float(weights.get(occasion.channel, 1.0)) if occasion.channel else 1.0
    if occasion.live:
        weight *= float(weights.get(LIVE, 1.0))
    return weight


def components_of(strategy: Strategy, scores: dict[str, Any] | None, occasion: Occasion) -> dict[str, Any]:
    """The four components, their product (``priority``) and the occasion they were read in."""
    value, source = propensity(strategy, scores)
    weight = context_weight(strategy, occasion)
    return {
        "propensity": round(value, 6),
        "propensity_from": source,
        "observed": [strategy.observed_successes, strategy.observed_tries],
        "context_weight": round(weight, 6),
        "channel": occasion.channel,
        "live": occasion.live,
        "value": strategy.value,
        "lever": strategy.lever,
        "priority": round(value * weight * strategy.value * strategy.lever, 6),
    }


def ranked(entries: list[tuple[Strategy, dict[str, Any]]]) -> list[int]:
    """Positions of ``entries`` best first: priority descending, then strategy key."""
    return sorted(range(len(entries)), key=lambda i: (-entries[i][1]["priority"], entries[i][0].key))


def control_order(count: int, *, seed: str) -> list[int]:
    """A random order of ``count`` entries for a control customer (seeded by the occasion: the same
    occasion decided again gives the same order)."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


def component_reasons(components: dict[str, Any]) -> list[str]:
    """The components in words, for the desk card's reasons and the firing log."""
    if not components:
        return []
    observed = components.get("observed") or [0, 0]
    if components.get("propensity_from") == "score":
        source = "the customer's propensity score"
    else:
        source = f"observed {observed[0]} of {observed[1]}, smoothed ({observed[0]} + 1) / ({observed[1]} + 2)"
    context = f"on {components['channel']}" if components.get("channel") else "no channel"
    if components.get("live"):
        context += ", in a conversation now"
    reasons = [
        f"Priority {components['priority']:.3f} = propensity {components['propensity']:.2f}"
        f" × context {components['context_weight']:.2f} × value {components['value']:g}"
        f" × lever {components['lever']:g}",
        f"Propensity {components['propensity']:.2f}: {source}",
        f"Context weight {components['context_weight']:.2f}: {context}",
    ]
    if components.get("rank"):
        reasons.append(f"Ranked {components['rank']} of {components['eligible']} eligible")
    if components.get("control"):
        reasons.append("Random control group: chosen at random among the eligible actions")
    return reasons
