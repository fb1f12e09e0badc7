"""The console pages of the System of Insight; each package keeps its own."""

from insights.journeys import admin as journeys_admin

__all__ = ["journeys_admin"]
