"""The console of the System of Insight; each package registers its own."""

from insights.strategies import admin as strategies_admin  # noqa: F401
