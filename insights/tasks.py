"""Celery tasks of the System of Insight; each package keeps its own, imported here for the worker."""

from insights.kpis.tasks import rollup_contacts

__all__ = ["rollup_contacts"]
