"""The console pages of the System of Insight; each package registers its own."""

from insights.compliance import admin as compliance_admin
from insights.journeys import admin as journeys_admin
from insights.personas import admin as personas_admin
from insights.quality import admin as quality_admin
from insights.sentiment import admin as sentiment_admin
from insights.strategies import admin as strategies_admin
from insights.surveys import admin as surveys_admin

__all__ = [
    "compliance_admin",
    "journeys_admin",
    "personas_admin",
    "quality_admin",
    "sentiment_admin",
    "strategies_admin",
    "surveys_admin",
]
