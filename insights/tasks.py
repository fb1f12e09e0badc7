"""Celery tasks of the System of Insight; each package keeps its own, imported here for the worker."""

from insights.journeys.tasks import assign_stages
from insights.kpis.tasks import rollup_contacts
from insights.personas.tasks import assign_personas, discover_personas
from insights.quality.tasks import sample_interactions
from insights.scoring.tasks import score_all_customers, score_customers, train_all_models, train_model
from insights.sentiment.tasks import compliance_sweep_task, sentiment_backfill_task
from insights.strategies.tasks import compute_effects, evaluate_events, evaluate_time_triggers

__all__ = [
    "assign_personas",
    "assign_stages",
    "compliance_sweep_task",
    "compute_effects",
    "discover_personas",
    "evaluate_events",
    "evaluate_time_triggers",
    "rollup_contacts",
    "sample_interactions",
    "score_all_customers",
    "score_customers",
    "sentiment_backfill_task",
    "train_all_models",
    "train_model",
]
