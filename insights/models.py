"""All models of the System of Insight, gathered for Django; each lives in its domain package."""

from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup, RollupWatermark
from insights.strategies.models import Strategy, StrategyCrossing, StrategyEffect, StrategyFiring, StrategyWatermark

__all__ = [
    "AgentRollup",
    "CaseRollup",
    "ContactRollup",
    "QueueHourRollup",
    "QueueRollup",
    "RollupWatermark",
    "Strategy",
    "StrategyCrossing",
    "StrategyEffect",
    "StrategyFiring",
    "StrategyWatermark",
]
