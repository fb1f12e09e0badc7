"""The console for the System of Insight: each part registers its models in its own admin module."""

from insights.personas import admin as personas_admin

__all__ = ["personas_admin"]
