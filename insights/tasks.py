"""Celery tasks of the System of Insight; each package keeps its own, imported here for the worker."""

from insights.kpis.tasks import rollup_contacts
from insights.scoring.tasks import score_all_customers, score_customers, train_all_models, train_model

__all__ = ["rollup_contacts", "score_all_customers", "score_customers", "train_all_models", "train_model"]
