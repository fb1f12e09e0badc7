"""The console pages of the System of Insight; each package registers its own."""

from insights.journeys import admin as journeys_admin
from insights.personas import admin as personas_admin
from insights.strategies import admin as strategies_admin
from insights.surveys import admin as surveys_admin

__all__ = ["journeys_admin", "personas_admin", "strategies_admin", "surveys_admin"]
