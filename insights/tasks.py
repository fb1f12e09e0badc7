"""Celery tasks of the System of Insight; each package keeps its own, imported here for the worker."""

from insights.kpis.tasks import rollup_contacts
from insights.strategies.tasks import compute_effects, evaluate_events, evaluate_time_triggers

__all__ = ["compute_effects", "evaluate_events", "evaluate_time_triggers", "rollup_contacts"]
