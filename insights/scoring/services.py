"""Training, evaluating and applying the churn-risk and propensity models (docs/models.md).

``model_train`` reads the features as of a past cutoff and what customers did in the horizon
after it (records' selectors, set-based SQL), fits a scikit-learn pipeline, evaluates it on a
later cutoff's features against what happened after that one (AUC, Brier score, calibration), and
stores the run with its fitted pipeline. ``model_score_customers`` applies the latest good run to
every active customer and writes the scores, their reasons in words and the run's version through
``records.customers.services.customers_set_scores_bulk``. Both run in Celery tasks and the
management command, never in a request.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import joblib
import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cea.common.errors import NotFound, ValidationFailed
from cea.common.replica import reading_from_replica
from insights.scoring.features import ALL_FEATURES, NUMERIC_FEATURES, feature_frame, reason_in_words
from insights.scoring.models import ModelRun, ScoreKind
from records.customers.models import ValueTier
from records.customers.services import customers_set_scores_bulk
from records.features.selectors import customer_features_as_of, customers_acquiring_between, customers_active_between

RANDOM_STATE = 0
CALIBRATION_BINS = 10
REASONS_PER_SCORE = 3
# Churn's population: customers with any activity in this many days before the cutoff.
CHURN_ACTIVE_DAYS = 180
# A run is good enough to score customers when it ranks better than chance on the later window.
GOOD_AUC = 0.5


@dataclass(frozen=True)
class Windows:
    """Training: features as of ``train_cutoff``, labels in ``(train_cutoff, eval_cutoff]``;
    evaluation: features as of ``eval_cutoff``, labels in ``(eval_cutoff, eval_until]``."""

    horizon_days: int
    train_cutoff: datetime
    eval_cutoff: datetime
    eval_until: datetime


@dataclass(frozen=True)
class ScoringResult:
    run: ModelRun
    customers: int
    updated: int
    journey_events: int


def model_windows(*, until: datetime, horizon_days: int) -> Windows:
    """The two windows ending at ``until``: evaluation is the later horizon, training the one before."""
    if horizon_days < 1:
        raise ValidationFailed("The horizon is at least one day.", fields={"horizon_days": "Invalid."})
    horizon = timedelta(days=horizon_days)
    return Windows(horizon_days, until - 2 * horizon, until - horizon, until)


def _kind(kind: str) -> ScoreKind:
    if kind not in ScoreKind.values:
        raise ValidationFailed(
            f"Unknown model {kind!r}: use one of {', '.join(ScoreKind.values)}.", fields={"kind": "Invalid."}
        )
    return ScoreKind(kind)


def labelled_rows(*, kind: str, cutoff: datetime, until: datetime) -> tuple[pd.DataFrame, np.ndarray]:
    """The population's features as of ``cutoff`` and each one's label from ``(cutoff, until]``.

    Churn: customers active in the ``CHURN_ACTIVE_DAYS`` before the cutoff; label 1 when they had no
    interaction, case or journey event (insights' own excepted) in the window. Propensity: every
    active customer; label 1 when they gained an account, product or order in the window.
    """
    frame = feature_frame(customer_features_as_of(as_of=cutoff))
    if _kind(kind) == ScoreKind.CHURN_RISK:
        frame = frame[frame["days_since_last_activity"] <= CHURN_ACTIVE_DAYS]
        active = customers_active_between(after=cutoff, until=until)
        labels = (~frame.index.isin(list(active))).astype(int)
    else:
        buyers = customers_acquiring_between(after=cutoff, until=until)
        labels = frame.index.isin(list(buyers)).astype(int)
    return frame, np.asarray(labels)


def _require_trainable(*, kind: str, window: str, labels: np.ndarray, min_rows: int, min_class_rows: int) -> None:
    """Refuse (``ValidationFailed``) too few rows or a window where one class is (nearly) absent."""
    rows, positives = len(labels), int(labels.sum())
    if rows < min_rows:
        raise ValidationFailed(
            f"Cannot train {kind}: the {window} window has {rows} customers; at least {min_rows} are needed.",
            fields={"kind": "Too few rows."},
        )
    if min(positives, rows - positives) < min_class_rows:
        raise ValidationFailed(
            f"Cannot train {kind}: the {window} window has {positives} positive and {rows - positives} negative"
            f" customers; each class needs at least {min_class_rows}.",
            fields={"kind": "Single class."},
        )


def scoring_pipeline() -> Pipeline:
    """Standardised numbers and the one-hot value tier into a logistic regression (fixed random_state)."""
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), list(NUMERIC_FEATURES)),
            ("tier", OneHotEncoder(categories=[list(ValueTier.values)], handle_unknown="ignore"), ["value_tier"]),
        ],
        sparse_threshold=0,
    )
    model = LogisticRegression(max_iter=2000, random_state=RANDOM_STATE)
    return Pipeline([("features", columns), ("model", model)])


def transformed_names() -> list[str]:
    """The pipeline's columns after the transform, as the reasons and importances name them."""
    return [*NUMERIC_FEATURES, *(f"value_tier={tier}" for tier in ValueTier.values)]


def _calibration(labels: np.ndarray, predicted: np.ndarray) -> list[dict[str, float | int]]:
    observed, mean_predicted = calibration_curve(labels, predicted, n_bins=CALIBRATION_BINS, strategy="uniform")
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], predicted, side="right"), minlength=CALIBRATION_BINS)
    rows = [int(count) for count in counts if count > 0]
    return [
        {"predicted": round(float(p), 4), "observed": round(float(o), 4), "rows": n}
        for p, o, n in zip(mean_predicted, observed, rows, strict=True)
    ]


def _importances(pipeline: Pipeline) -> list[dict[str, Any]]:
    weights = pipeline.named_steps["model"].coef_[0]
    pairs = sorted(zip(transformed_names(), weights, strict=True), key=lambda pair: -abs(pair[1]))
    return [{"feature": name, "weight": round(float(weight), 6)} for name, weight in pairs]


def _pipeline_bytes(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def pipeline_of(run: ModelRun) -> Pipeline:
    """The fitted pipeline stored with ``run`` (written by ``model_train`` only)."""
    pipeline: Pipeline = joblib.load(io.BytesIO(bytes(run.pipeline)))
    return pipeline


def model_train(
    *,
    kind: str,
    until: datetime | None = None,
    horizon_days: int | None = None,
    min_rows: int | None = None,
    min_class_rows: int | None = None,
) -> ModelRun:
    """Train and evaluate ``kind`` on the windows ending at ``until`` (default: today's midnight, UTC)
    and store the run. Idempotent: a run of the same kind and windows is returned, not repeated.

    Raises ``ValidationFailed`` for an unknown kind, or a window with too few customers or a single
    class (``CEA_SCORING_MIN_ROWS``, ``CEA_SCORING_MIN_CLASS_ROWS``).
    """
    _kind(kind)
    end = until or timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    windows = model_windows(until=end, horizon_days=horizon_days or settings.CEA_SCORING_HORIZON_DAYS)
    same = ModelRun.objects.filter(
        kind=kind, train_cutoff=windows.train_cutoff, eval_until=windows.eval_until, horizon_days=windows.horizon_days
    ).first()
    if same is not None:
        return same
    limits = {
        "min_rows": min_rows or settings.CEA_SCORING_MIN_ROWS,
        "min_class_rows": min_class_rows or settings.CEA_SCORING_MIN_CLASS_ROWS,
    }
    started = time.perf_counter()
    # Past windows' history: the replica's copy serves (the run above is looked up on the primary).
    with reading_from_replica():
        train_x, train_y = labelled_rows(kind=kind, cutoff=windows.train_cutoff, until=windows.eval_cutoff)
        _require_trainable(kind=kind, window="training", labels=train_y, **limits)
        eval_x, eval_y = labelled_rows(kind=kind, cutoff=windows.eval_cutoff, until=windows.eval_until)
    _require_trainable(kind=kind, window="evaluation", labels=eval_y, **limits)
    pipeline = scoring_pipeline().fit(train_x[list(ALL_FEATURES)], train_y)
    predicted = pipeline.predict_proba(eval_x[list(ALL_FEATURES)])[:, 1]
    return _run_store(
        kind=kind,
        windows=windows,
        pipeline=pipeline,
        labels=(train_y, eval_y),
        predicted=predicted,
        duration=time.perf_counter() - started,
    )


@transaction.atomic
def _run_store(
    *,
    kind: str,
    windows: Windows,
    pipeline: Pipeline,
    labels: tuple[np.ndarray, np.ndarray],
    predicted: np.ndarray,
    duration: float,
) -> ModelRun:
    train_y, eval_y = labels
    run = ModelRun.objects.create(
        kind=kind,
        version=f"{kind}-pending-{time.time_ns()}",
        horizon_days=windows.horizon_days,
        train_cutoff=windows.train_cutoff,
        eval_cutoff=windows.eval_cutoff,
        eval_until=windows.eval_until,
        features=list(ALL_FEATURES),
        train_rows=len(train_y),
        train_positives=int(train_y.sum()),
        eval_rows=len(eval_y),
        eval_positives=int(eval_y.sum()),
        auc=round(float(roc_auc_score(eval_y, predicted)), 4),
        brier=round(float(brier_score_loss(eval_y, predicted)), 4),
        base_rate=round(float(eval_y.mean()), 4),
        calibration=_calibration(eval_y, predicted),
        importances=_importances(pipeline),
        trained_at=timezone.now(),
        duration_seconds=round(duration, 3),
        pipeline=_pipeline_bytes(pipeline),
    )
    run.version = f"{kind}-v{run.pk}"
    run.save(update_fields=["version"])
    return run


def latest_good_run(*, kind: str) -> ModelRun | None:
    """The newest run of ``kind`` whose AUC on its later window beats chance (``GOOD_AUC``)."""
    _kind(kind)
    return ModelRun.objects.filter(kind=kind, auc__gt=GOOD_AUC).order_by("-trained_at", "-id").first()


def score_reasons(*, pipeline: Pipeline, frame: pd.DataFrame, count: int = REASONS_PER_SCORE) -> list[list[str]]:
    """Per row, the features that raise its score most against an average customer, in words.

    A feature's contribution is its standardised value times the model's weight (for the value
    tier, the weight of the customer's tier); only positive contributions are reasons.
    """
    transformed = np.asarray(pipeline.named_steps["features"].transform(frame[list(ALL_FEATURES)]), dtype=float)
    contributions = transformed * pipeline.named_steps["model"].coef_[0]
    top = np.argsort(-contributions, axis=1)[:, :count]
    names = transformed_names()
    numbers = frame[list(NUMERIC_FEATURES)].to_numpy(dtype=float)
    width = len(NUMERIC_FEATURES)
    return [
        [
            reason_in_words(names[column], numbers[row, column] if column < width else 0)
            for column in top[row]
            if contributions[row, column] > 0
        ]
        for row in range(len(frame))
    ]


def model_score_customers(*, kind: str, as_of: datetime | None = None, run_id: int | None = None) -> ScoringResult:
    """Score every active customer with run ``run_id`` (default: the latest good run of ``kind``) on
    their features as of ``as_of`` (default now), and write the score, its reasons and the run's
    version through records' bulk service. ``NotFound`` when there is no such run.
    """
    _kind(kind)
    run = ModelRun.objects.filter(kind=kind, pk=run_id).first() if run_id is not None else latest_good_run(kind=kind)
    if run is None:
        raise NotFound(f"No trained {kind} model to score with: train one first (insights_train_models).")
    frame = feature_frame(customer_features_as_of(as_of=as_of or timezone.now()))
    if frame.empty:
        return ScoringResult(run=run, customers=0, updated=0, journey_events=0)
    pipeline = pipeline_of(run)
    probabilities = pipeline.predict_proba(frame[list(ALL_FEATURES)])[:, 1]
    reasons = score_reasons(pipeline=pipeline, frame=frame)
    scores = {
        int(customer): {kind: round(float(p), 3), f"{kind}_reasons": why, f"{kind}_model": run.version}
        for customer, p, why in zip(frame.index, probabilities, reasons, strict=True)
    }
    updated, events = customers_set_scores_bulk(actor=None, scores=scores, journey_keys=(kind,))
    run.scored_customers, run.scored_at = len(scores), timezone.now()
    run.save(update_fields=["scored_customers", "scored_at"])
    return ScoringResult(run=run, customers=len(scores), updated=updated, journey_events=events)
