"""How the strategy page words an effect: claimed only with enough customers and an interval off zero."""

from __future__ import annotations

from django.conf import settings

from insights.strategies.models import StrategyEffect


def effect_claimed(effect: StrategyEffect) -> bool:
    """An effect is claimed when both groups have ``CEA_STRATEGIES_MIN_GROUP`` customers and the 95%
    interval of the difference leaves out zero."""
    minimum = settings.CEA_STRATEGIES_MIN_GROUP
    return (
        effect.treated >= minimum
        and effect.holdout >= minimum
        and effect.ci_low is not None
        and effect.ci_high is not None
        and (effect.ci_low > 0 or effect.ci_high < 0)
    )


def effect_wording(effect: StrategyEffect) -> str:
    minimum = settings.CEA_STRATEGIES_MIN_GROUP
    if effect.treated < minimum or effect.holdout < minimum:
        return f"No effect claimed: fewer than {minimum} customers in the treated or the holdout group."
    if not effect_claimed(effect):
        return "No effect claimed: the 95% confidence interval of the difference includes zero."
    direction = "higher" if (effect.difference or 0) > 0 else "lower"
    return f"The metric is {abs(effect.difference or 0) * 100:.1f} points {direction} with the strategy than without."
