"""All models of the System of Insight, gathered for Django; each lives in its domain package."""

from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup, RollupWatermark
from insights.scoring.models import ModelRun

__all__ = [
    "AgentRollup",
    "CaseRollup",
    "ContactRollup",
    "ModelRun",
    "QueueHourRollup",
    "QueueRollup",
    "RollupWatermark",
]
