"""A strategy's effect: its metric among treated customers against the holdout, with a 95% interval.

Computed by a Celery task (statsmodels stays out of the request path) and stored per team and
for all customers (``StrategyEffect``); the strategy page reads the rows. Each customer counts
once, from their first firing of the strategy that was acted on (treated: ``fired``) or held
out (``held_out``); the metric is read from that moment on (docs/journeys.md):

- ``stage_reached``: the customer is in ``metric_stage`` now, having entered it after the firing
  and within ``metric_days`` (a stage left again since is missed until stage history is read);
- ``case_resolved``: a case of the customer was resolved within ``metric_days`` of the firing;
- ``retention``: no move to the ``lapsed`` stage within ``metric_days``; only firings whose
  window has ended count;
- ``nba_accepted``: read from engagement's recommendation outcomes once wired (issue 13).

The difference is treated rate − holdout rate, its interval Newcombe's hybrid score interval
(``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb", compare="diff")``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from statsmodels.stats.proportion import confint_proportions_2indep

from insights.strategies.models import MetricKind, Strategy, StrategyEffect

_WINDOW = "f.at + make_interval(days => %(days)s)"
_SUCCESS = {
    MetricKind.STAGE_REACHED: (
        "c.journey_stage = %(stage)s AND c.journey_stage_since >= f.at AND c.journey_stage_since < " + _WINDOW
    ),
    MetricKind.CASE_RESOLVED: (
        "EXISTS (SELECT 1 FROM records_case k WHERE k.customer_id = c.id AND k.resolved_at >= f.at"  # noqa: S608
        " AND k.resolved_at < " + _WINDOW + ")"
    ),
    MetricKind.RETENTION: (
        "NOT (c.journey_stage = 'lapsed' AND c.journey_stage_since >= f.at AND c.journey_stage_since < " + _WINDOW + ")"
    ),
}
# One row per customer (their first treated or held-out firing), counted by team and group.
_COUNTS = """
WITH firsts AS (
    SELECT DISTINCT ON (customer_id) customer_id, outcome, at
    FROM insights_strategyfiring
    WHERE strategy_id = %(strategy)s AND outcome IN ('fired', 'held_out')
    ORDER BY customer_id, at, id
)
SELECT c.team_id, f.outcome, count(*), count(*) FILTER (WHERE __SUCCESS__)
FROM firsts f JOIN records_customer c ON c.id = f.customer_id
WHERE __MATURED__
GROUP BY c.team_id, f.outcome
"""


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


def _counts(strategy: Strategy, now: dt.datetime) -> dict[int | None, list[int]]:
    """``{team_id: [treated, treated_successes, holdout, holdout_successes]}``."""
    retention = strategy.metric_kind == MetricKind.RETENTION
    matured = "f.at + make_interval(days => %(days)s) <= %(now)s" if retention else "TRUE"
    sql = _COUNTS.replace("__SUCCESS__", _SUCCESS[MetricKind(strategy.metric_kind)]).replace("__MATURED__", matured)
    params: dict[str, int | str | dt.datetime] = {
        "strategy": strategy.pk,
        "days": strategy.metric_days,
        "stage": strategy.metric_stage,
        "now": now,
    }
    counts: dict[int | None, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
    """Recompute and store a strategy's effect rows (each team's and all customers'); none for a metric
    not readable yet (``nba_accepted``)."""
    now = now or timezone.now()
    StrategyEffect.objects.filter(strategy=strategy).delete()
    if strategy.metric_kind not in _SUCCESS:
        return []
    counts = _counts(strategy, now)
    total = [sum(row[i] for row in counts.values()) for i in range(4)]
    effects = [_effect(strategy, team_id, row, now) for team_id, row in counts.items() if team_id is not None]
    effects.append(_effect(strategy, None, total, now))
    return StrategyEffect.objects.bulk_create(effects)
