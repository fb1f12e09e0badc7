"""Reading strategies: who may, the firings log by outcome, the dry-run and the stored effect.

Strategies are for supervisors, administrators and API clients (``insights:read``); agents are
refused. Figures about customers — firings, dry-run counts and samples, effects — are limited to
the reader's teams' customers for a supervisor (``insights.access.customer_insight_team_ids``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cea.accounts.types import Actor
from cea.common.errors import NotFound
from engagement.recommendations.selectors import recommendation_outcomes
from insights.access import customer_insight_team_ids
from insights.strategies.arbitration import observed_propensity
from insights.strategies.evaluation import Candidate, decide
from insights.strategies.models import (
    ActionKind,
    ArbitrationUplift,
    FiringOutcome,
    Strategy,
    StrategyEffect,
    StrategyFiring,
    TriggerKind,
)
from insights.strategies.services import audience_filter, beyond_filter, trigger_population
from records.customers.models import Customer

DRY_RUN_LIMIT = 50_000
SAMPLE_SIZE = 20


def strategies_visible_to(user: Actor) -> QuerySet[Strategy]:
    customer_insight_team_ids(user, "Engagement strategies")
    return Strategy.objects.all()


def access_strategy(user: Actor, key: str) -> Strategy:
    customer_insight_team_ids(user, "Engagement strategies")
    strategy = Strategy.objects.filter(key=key).first()
    if strategy is None:
        raise NotFound(f"No strategy with the key {key!r}.")
    return strategy


def _team_filter(team_ids: frozenset[int] | None, path: str) -> Q:
    return Q() if team_ids is None else Q(**{f"{path}__in": sorted(team_ids)})


def strategy_firing_counts(*, user: Actor, strategy: Strategy) -> dict[str, int]:
    """Firings by outcome (``suppressed:<reason>`` for each reason), on the reader's customers."""
    team_ids = customer_insight_team_ids(user, "Engagement strategies")
    rows = (
        StrategyFiring.objects.filter(_team_filter(team_ids, "customer__team_id"), strategy=strategy)
        .values("outcome", "reason")
        .annotate(n=Count("id"))
    )
    counts: dict[str, int] = {outcome: 0 for outcome in FiringOutcome.values}
    for row in rows:
        counts[row["outcome"]] += row["n"]
        if row["outcome"] == FiringOutcome.SUPPRESSED:
            key = f"suppressed:{row['reason']}"
            counts[key] = counts.get(key, 0) + row["n"]
    return counts


def strategy_recent_firings(*, user: Actor, strategy: Strategy, limit: int = 50) -> list[StrategyFiring]:
    team_ids = customer_insight_team_ids(user, "Engagement strategies")
    firings = StrategyFiring.objects.filter(_team_filter(team_ids, "customer__team_id"), strategy=strategy)
    return list(firings.select_related("customer").order_by("-at", "-id")[:limit])


@dataclass
class DryRun:
    """Who a strategy would reach now: counts by reason and a sample of those it would act on."""

    in_audience: int = 0
    would_fire: int = 0
    holdout: int = 0
    capped: int = 0
    no_consent: int = 0
    quiet_hours: int = 0
    truncated: bool = False
    note: str = ""
    sample: list[Customer] = field(default_factory=list)


def strategy_dry_run(*, user: Actor, strategy: Strategy, now: dt.datetime | None = None) -> DryRun:
    """Decide, without recording or acting, for the customers the strategy would reach now.

    Time triggers: the customers their condition reaches now (in the stage, beyond the score, the
    audience at the scheduled time). Event triggers: the audience, as if the event came for each.
    A score trigger counts those beyond the threshold now, crossed or not. At most
    ``DRY_RUN_LIMIT`` customers are decided (``truncated``); only the reader's customers count.
    """
    team_ids = customer_insight_team_ids(user, "Engagement strategies")
    now = now or timezone.now()
    if strategy.trigger_kind in (TriggerKind.STAGE_ENTERED, TriggerKind.STAGE_STAYED):
        customers = trigger_population(strategy, now)
    else:
        customers = Customer.objects.filter(audience_filter(strategy))
    if strategy.trigger_kind == TriggerKind.SCORE_CROSSED:
        customers = customers.filter(beyond_filter(strategy))
    customers = customers.filter(_team_filter(team_ids, "team_id")).order_by("id")
    population = list(customers[: DRY_RUN_LIMIT + 1])
    result = DryRun(truncated=len(population) > DRY_RUN_LIMIT)
    population = population[:DRY_RUN_LIMIT]
    result.in_audience = len(population)
    decisions = decide([Candidate(strategy, c, f"dry-run:{c.pk}") for c in population], now=now)
    for decision in decisions:
        if decision.outcome == FiringOutcome.FIRED:
            result.would_fire += 1
            if len(result.sample) < SAMPLE_SIZE:
                result.sample.append(decision.candidate.customer)
        elif decision.outcome == FiringOutcome.HELD_OUT:
            result.holdout += 1
        elif decision.reason in ("capped", "global_cap"):
            result.capped += 1
        elif decision.reason == "quiet_hours":
            result.quiet_hours += 1
        else:
            result.no_consent += 1
    return result


def strategy_effects(*, user: Actor, strategy: Strategy) -> list[StrategyEffect]:
    """The stored effect rows the reader may see: all customers' and each team's for admins, their teams' for
    supervisors."""
    team_ids = customer_insight_team_ids(user, "Engagement strategies")
    effects = StrategyEffect.objects.filter(strategy=strategy).select_related("team")
    if team_ids is not None:
        effects = effects.filter(team_id__in=sorted(team_ids))
    return sorted(effects, key=lambda e: (e.team is not None, e.team.name if e.team else ""))


def strategy_recommendation_outcomes(*, user: Actor, strategy: Strategy) -> dict[str, int] | None:
    """What became of a next-best-action strategy's offers (offered, accepted, dismissed, expired), for the
    reader's teams' customers (engagement's ``recommendation_outcomes``); ``None`` for other actions."""
    team_ids = customer_insight_team_ids(user, "Engagement strategies")
    if strategy.action_kind != ActionKind.NEXT_BEST_ACTION:
        return None
    key = strategy.source_key
    return recommendation_outcomes(source_keys=[key], team_ids=team_ids)[key]


def arbitration_settings() -> dict[str, int]:
    """The settings arbitration runs with (docs/journeys.md, "Arbitration and uplift")."""
    return {
        "proactive_top": settings.CEA_ARBITRATION_PROACTIVE_TOP,
        "nba_top": settings.CEA_ARBITRATION_NBA_TOP,
        "control_percent": settings.CEA_ARBITRATION_CONTROL_PERCENT,
        "uplift_min": settings.CEA_ARBITRATION_UPLIFT_MIN,
    }


def arbitration_components(*, user: Actor) -> list[dict[str, Any]]:
    """Each strategy's tunable components: where its propensity comes from, its observed rate, its context
    weights, value and lever."""
    return [
        {
            "key": strategy.key,
            "name": strategy.name,
            "action_kind": strategy.action_kind,
            "active": strategy.active,
            "propensity_from": strategy.propensity_from,
            "observed_successes": strategy.observed_successes,
            "observed_tries": strategy.observed_tries,
            "observed_propensity": round(observed_propensity(strategy), 6),
            "context_weights": strategy.context_weights,
            "value": strategy.value,
            "lever": strategy.lever,
        }
        for strategy in strategies_visible_to(user)
    ]


def arbitration_uplift(*, user: Actor) -> list[ArbitrationUplift]:
    """The stored uplift rows the reader may see: all customers' and each team's for admins and clients,
    their teams' for supervisors; all customers' first, then by team name."""
    team_ids = customer_insight_team_ids(user, "Engagement strategies")
    rows = ArbitrationUplift.objects.select_related("team")
    if team_ids is not None:
        rows = rows.filter(team_id__in=sorted(team_ids))
    return sorted(rows, key=lambda row: (row.team is not None, row.team.name if row.team else ""))
