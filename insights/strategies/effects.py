"""A strategy's effect: its metric among treated customers against the holdout, with a 95% interval.

Computed by a Celery task (statsmodels stays out of the request path) and stored per team and
for all customers (``StrategyEffect``); the strategy page reads the rows. Each customer counts
once, from their first firing of the strategy that was acted on (treated: ``fired``) or held
out (``held_out``); the metric is read from that moment on (docs/journeys.md):

- ``stage_reached``: the customer entered ``metric_stage`` after the firing and within
  ``metric_days``, by their stage history (``insights_stagevisit``), whether they stayed or not;
- ``case_resolved``: a case of the customer was resolved within ``metric_days`` of the firing;
- ``retention``: no entry into the ``lapsed`` stage within ``metric_days``, by the stage history;
  only firings whose window has ended count;
- ``nba_accepted``: the next best action the strategy offered the customer (``strategy:<key>``) was
  accepted at the desk within ``metric_days`` of the firing (holdout customers are never offered
  it: their rate is 0, and the difference is the acceptance rate); the acceptances are read through
  engagement's ``recommendation_acceptances``, then matched to the firings here.

Treated customers include those of arbitration's random control group whose action the strategy
was (chosen at random, acted on); the holdout holds for them too, so both groups are "chosen for
this strategy", by arbitration or at random. The effects task also refreshes each strategy's
observed success rate, arbitration's propensity when it has no score (``strategy_observed_refresh``).

The difference is treated rate − holdout rate, its interval Newcombe's hybrid score interval
(``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb", compare="diff")``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from statsmodels.stats.proportion import confint_proportions_2indep

from engagement.recommendations.selectors import recommendation_acceptances, recommendation_outcomes
from insights.strategies.models import ActionKind, MetricKind, Strategy, StrategyEffect

_WINDOW = "f.at + make_interval(days => %(days)s)"
_SUCCESS = {
    MetricKind.STAGE_REACHED: (
        "EXISTS (SELECT 1 FROM insights_stagevisit v WHERE v.customer_id = c.id AND v.stage_key = %(stage)s"  # noqa: S608
        " AND v.entered_at >= f.at AND v.entered_at < " + _WINDOW + ")"
    ),
    MetricKind.CASE_RESOLVED: (
        "EXISTS (SELECT 1 FROM records_case k WHERE k.customer_id = c.id AND k.resolved_at >= f.at"  # noqa: S608
        " AND k.resolved_at < " + _WINDOW + ")"
    ),
    MetricKind.RETENTION: (
        "NOT EXISTS (SELECT 1 FROM insights_stagevisit v WHERE v.customer_id = c.id"  # noqa: S608
        " AND v.stage_key = 'lapsed' AND v.entered_at >= f.at AND v.entered_at < " + _WINDOW + ")"
    ),
    # Read from engagement's selector afterwards (``nba_accepted_within``): not a table of insights' to join.
    MetricKind.NBA_ACCEPTED: "FALSE",
}
_MATURED = "f.at + make_interval(days => %(days)s) <= %(now)s"


def success_sql(strategy: Strategy) -> str:
    """The strategy's metric as a condition on a firing ``f`` of customer ``c`` (params: ``metric_params``)."""
    return _SUCCESS[MetricKind(strategy.metric_kind)]


def matured_sql(strategy: Strategy) -> str:
    """Which firings count yet: a retention metric only once its window has ended."""
    return _MATURED if strategy.metric_kind == MetricKind.RETENTION else "TRUE"


def metric_params(strategy: Strategy, now: dt.datetime) -> dict[str, int | str | dt.datetime]:
    return {
        "strategy": strategy.pk,
        "days": strategy.metric_days,
        "stage": strategy.metric_stage,
        "source_key": strategy.source_key,
        "now": now,
    }


_FIRSTS_CTE = """
WITH firsts AS (
    SELECT DISTINCT ON (customer_id) customer_id, outcome, at
    FROM insights_strategyfiring
    WHERE strategy_id = %(strategy)s AND outcome IN ('fired', 'held_out')
    ORDER BY customer_id, at, id
)
"""
# One row per customer (their first treated or held-out firing), counted by team and group.
_COUNTS = (
    _FIRSTS_CTE
    + """
SELECT c.team_id, f.outcome, count(*), count(*) FILTER (WHERE __SUCCESS__)
FROM firsts f JOIN records_customer c ON c.id = f.customer_id
WHERE __MATURED__
GROUP BY c.team_id, f.outcome
"""
)
# The same customers one by one, for a metric matched in Python (nba_accepted).
_FIRSTS = (
    _FIRSTS_CTE
    + """
SELECT c.team_id, f.customer_id, f.outcome, f.at
FROM firsts f JOIN records_customer c ON c.id = f.customer_id
"""
)


@dataclass(frozen=True)
class Interval:
    difference: float
    low: float
    high: float


def difference_interval(
    *, treated_successes: int, treated: int, holdout_successes: int, holdout: int
) -> Interval | None:
    """Treated rate − holdout rate with its 95% interval; ``None`` when a group is empty."""
    if treated == 0 or holdout == 0:
        return None
    low, high = confint_proportions_2indep(
        treated_successes, treated, holdout_successes, holdout, method="newcomb", compare="diff", alpha=0.05
    )
    return Interval(
        difference=treated_successes / treated - holdout_successes / holdout, low=float(low), high=float(high)
    )


def nba_accepted_within(strategy: Strategy, firings: list[tuple[int, dt.datetime]]) -> list[bool]:
    """For each (customer, firing time): whether the customer accepted the strategy's next best action
    within ``metric_days`` of it (engagement's ``recommendation_acceptances``)."""
    accepted = recommendation_acceptances(
        source_key=strategy.source_key, customer_ids={customer_id for customer_id, _ in firings}
    )
    window = dt.timedelta(days=strategy.metric_days)
    return [any(at <= when < at + window for when in accepted.get(customer_id, ())) for customer_id, at in firings]


def _nba_counts(strategy: Strategy) -> dict[int | None, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(_FIRSTS, {"strategy": strategy.pk})
        rows = cursor.fetchall()
    successes = nba_accepted_within(strategy, [(customer_id, at) for _, customer_id, _, at in rows])
    counts: dict[int | None, list[int]] = {}
    for (team_id, _, outcome, _), success in zip(rows, successes, strict=True):
        row = counts.setdefault(team_id, [0, 0, 0, 0])
        offset = 0 if outcome == "fired" else 2
        row[offset] += 1
        row[offset + 1] += int(success)
    return counts


def _counts(strategy: Strategy, now: dt.datetime) -> dict[int | None, list[int]]:
    """``{team_id: [treated, treated_successes, holdout, holdout_successes]}``."""
    if strategy.metric_kind == MetricKind.NBA_ACCEPTED:
        return _nba_counts(strategy)
    sql = _COUNTS.replace("__SUCCESS__", success_sql(strategy)).replace("__MATURED__", matured_sql(strategy))
    counts: dict[int | None, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, metric_params(strategy, now))
        for team_id, outcome, n, successes in cursor.fetchall():
            row = counts.setdefault(team_id, [0, 0, 0, 0])
            offset = 0 if outcome == "fired" else 2
            row[offset], row[offset + 1] = n, successes
    return counts


def _effect(strategy: Strategy, team_id: int | None, row: list[int], now: dt.datetime) -> StrategyEffect:
    interval = difference_interval(treated=row[0], treated_successes=row[1], holdout=row[2], holdout_successes=row[3])
    return StrategyEffect(
        strategy=strategy,
        team_id=team_id,
        treated=row[0],
        treated_successes=row[1],
        holdout=row[2],
        holdout_successes=row[3],
        difference=interval.difference if interval else None,
        ci_low=interval.low if interval else None,
        ci_high=interval.high if interval else None,
        computed_at=now,
    )


@transaction.atomic
def strategy_effects_compute(*, strategy: Strategy, now: dt.datetime | None = None) -> list[StrategyEffect]:
    """Recompute and store a strategy's effect rows (each team's and all customers')."""
    now = now or timezone.now()
    StrategyEffect.objects.filter(strategy=strategy).delete()
    counts = _counts(strategy, now)
    total = [sum(row[i] for row in counts.values()) for i in range(4)]
    effects = [_effect(strategy, team_id, row, now) for team_id, row in counts.items() if team_id is not None]
    effects.append(_effect(strategy, None, total, now))
    return StrategyEffect.objects.bulk_create(effects)


def strategy_observed_refresh(*, strategy: Strategy, now: dt.datetime | None = None) -> tuple[int, int]:
    """Store the strategy's observed (successes, tries), arbitration's propensity without a score: a next
    best action's accepted of offered (engagement's ``recommendation_outcomes``), else the treated
    customers who met the metric of those treated (its all-customers effect, computed first)."""
    if strategy.action_kind == ActionKind.NEXT_BEST_ACTION:
        key = strategy.source_key
        outcome = recommendation_outcomes(source_keys=[key], now=now)[key]
        successes, tries = outcome["accepted"], outcome["offered"]
    else:
        effect = StrategyEffect.objects.filter(strategy=strategy, team__isnull=True).first()
        successes, tries = (effect.treated_successes, effect.treated) if effect else (0, 0)
    Strategy.objects.filter(pk=strategy.pk).update(observed_successes=successes, observed_tries=tries)
    strategy.observed_successes, strategy.observed_tries = successes, tries
    return successes, tries
