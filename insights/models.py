"""All models of the System of Insight, gathered for Django; each lives in its domain package."""

from insights.journeys.models import JourneyStage, StageRule, StageVisit, StageWatermark
from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup, RollupWatermark
from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition
from insights.scoring.models import ModelRun
from insights.strategies.models import Strategy, StrategyCrossing, StrategyEffect, StrategyFiring, StrategyWatermark
from insights.surveys.models import PulseAnswer, PulseParticipation, Survey, SurveyConfig

__all__ = [
    "AgentRollup",
    "CaseRollup",
    "ContactRollup",
    "DiscoveredCluster",
    "DiscoveryRun",
    "JourneyStage",
    "ModelRun",
    "PersonaDefinition",
    "PulseAnswer",
    "PulseParticipation",
    "QueueHourRollup",
    "QueueRollup",
    "RollupWatermark",
    "StageRule",
    "StageVisit",
    "StageWatermark",
    "Strategy",
    "StrategyCrossing",
    "StrategyEffect",
    "StrategyFiring",
    "StrategyWatermark",
    "Survey",
    "SurveyConfig",
]
