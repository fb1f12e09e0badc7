"""All models of the System of Insight, gathered for Django; each lives in its domain package."""

from insights.kpis.models import AgentRollup, ContactRollup, RollupWatermark

__all__ = ["AgentRollup", "ContactRollup", "RollupWatermark"]
