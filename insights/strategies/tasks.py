"""Celery tasks of the strategies: new journey events, time triggers, effects (beat: cea/settings.py)."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from insights.strategies.effects import strategy_effects_compute, strategy_observed_refresh
from insights.strategies.evaluation import firings_act
from insights.strategies.models import Strategy
from insights.strategies.services import strategies_evaluate_new_events, strategies_evaluate_time_triggers
from insights.strategies.uplift import arbitration_uplift_compute


@shared_task(name="insights.strategies.evaluate_events")
def evaluate_events() -> int:
    """Evaluate the journey events recorded since the last run (none if another run holds the watermark)."""
    run = strategies_evaluate_new_events()
    return run.firings if run else 0


@shared_task(name="insights.strategies.act", **database_retry(backoff_max=60))
def act_on_firings(*, firing_ids: list[int]) -> int:
    """Run the actions of these firings (those not acted on yet)."""
    return firings_act(firing_ids=firing_ids)


@shared_task(name="insights.strategies.evaluate_time_triggers")
def evaluate_time_triggers() -> int:
    return strategies_evaluate_time_triggers()


@shared_task(name="insights.strategies.compute_effects")
def compute_effects() -> int:
    """Recompute every strategy's effect against its holdout, and its observed success rate (arbitration's
    propensity without a score); the number of strategies done."""
    strategies = list(Strategy.objects.all())
    for strategy in strategies:
        strategy_effects_compute(strategy=strategy)
        strategy_observed_refresh(strategy=strategy)
    return len(strategies)


@shared_task(name="insights.strategies.compute_uplift")
def compute_uplift() -> int:
    """Recompute arbitration's uplift against the random control group (scikit-uplift); rows stored."""
    return len(arbitration_uplift_compute())
