"""Celery tasks of the scores: retrain the models weekly and rescore customers daily (beat, cea/settings.py).

Each takes model kinds (and dates as ISO text), never objects; both are idempotent: training the
same windows again returns the stored run, and rescoring writes only the customers whose scores
changed (journey events only for a material move, docs/models.md). A window that cannot be trained
(too few rows, one class) is logged and skipped, not retried: it will not change until the data does.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task

from cea.common.errors import NotFound, ValidationFailed
from cea.common.tasks import database_retry
from insights.scoring.models import ScoreKind
from insights.scoring.services import model_score_customers, model_train

logger = logging.getLogger(__name__)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@shared_task(name="insights.scoring.train", **database_retry(backoff_max=600))
def train_model(kind: str, until: str | None = None) -> int | None:
    """Train ``kind`` on the windows ending at ``until`` (ISO; default today's midnight UTC): the run's id,
    or ``None`` when the data cannot train it (the reason is logged)."""
    try:
        return model_train(kind=kind, until=_moment(until)).pk
    except ValidationFailed as refusal:
        logger.warning("insights.scoring: %s", refusal)
        return None


@shared_task(name="insights.scoring.score", **database_retry(backoff_max=600))
def score_customers(kind: str, as_of: str | None = None) -> int:
    """Rescore every active customer with the latest good ``kind`` model: the customers whose scores changed."""
    try:
        return model_score_customers(kind=kind, as_of=_moment(as_of)).updated
    except NotFound as missing:
        logger.warning("insights.scoring: %s", missing)
        return 0


@shared_task(name="insights.scoring.train_all", **database_retry(backoff_max=600))
def train_all_models() -> dict[str, int | None]:
    """Weekly: train every kind, then rescore with what was trained."""
    runs = {kind: train_model(kind) for kind in ScoreKind.values}
    for kind, run_id in runs.items():
        if run_id is not None:
            score_customers(kind)
    return runs


@shared_task(name="insights.scoring.score_all", **database_retry(backoff_max=600))
def score_all_customers() -> dict[str, int]:
    """Daily: rescore every kind with its latest good model."""
    return {kind: score_customers(kind) for kind in ScoreKind.values}
