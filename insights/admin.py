"""The console pages of the System of Insight; each package registers its own."""

from insights.journeys import admin as journeys_admin
from insights.personas import admin as personas_admin
from insights.quality import admin as quality_admin
from insights.strategies import admin as strategies_admin

__all__ = ["journeys_admin", "personas_admin", "quality_admin", "strategies_admin"]
