"""Celery tasks of the System of Insight; each package keeps its own, imported here for the worker."""

from insights.kpis.tasks import rollup_contacts
from insights.personas.tasks import assign_personas, discover_personas

__all__ = ["assign_personas", "discover_personas", "rollup_contacts"]
