"""All models of the System of Insight, gathered for Django; each lives in its domain package."""

from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup, RollupWatermark
from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition

__all__ = [
    "AgentRollup",
    "CaseRollup",
    "ContactRollup",
    "DiscoveredCluster",
    "DiscoveryRun",
    "PersonaDefinition",
    "QueueHourRollup",
    "QueueRollup",
    "RollupWatermark",
]
