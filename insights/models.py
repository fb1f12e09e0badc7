"""All models of the System of Insight, gathered for Django; each lives in its domain package."""

from insights.compliance.models import ComplianceCheck, ComplianceRule
from insights.journeys.models import JourneyStage, StageRule, StageVisit, StageWatermark
from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup, RollupWatermark
from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition
from insights.quality.models import (
    CalibrationSession,
    Evaluation,
    EvaluationAnswer,
    SampleItem,
    Scorecard,
    ScorecardQuestion,
)
from insights.scoring.models import ModelRun
from insights.sentiment.models import NegativeTurn, SentimentSettings
from insights.strategies.models import Strategy, StrategyCrossing, StrategyEffect, StrategyFiring, StrategyWatermark
from insights.surveys.models import PulseAnswer, PulseParticipation, Survey, SurveyConfig

__all__ = [
    "AgentRollup",
    "CalibrationSession",
    "CaseRollup",
    "ComplianceCheck",
    "ComplianceRule",
    "ContactRollup",
    "DiscoveredCluster",
    "DiscoveryRun",
    "Evaluation",
    "EvaluationAnswer",
    "JourneyStage",
    "ModelRun",
    "NegativeTurn",
    "PersonaDefinition",
    "PulseAnswer",
    "PulseParticipation",
    "QueueHourRollup",
    "QueueRollup",
    "RollupWatermark",
    "SampleItem",
    "Scorecard",
    "ScorecardQuestion",
    "SentimentSettings",
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
