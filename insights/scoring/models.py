"""Model runs: one row per training of a scoring model, with its windows, metrics and fitted pipeline."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScoreKind(models.TextChoices):
    CHURN_RISK = "churn_risk", _("Churn risk")
    PROPENSITY = "propensity", _("Propensity to buy")


class ModelRun(models.Model):
    """One training of a scoring model (docs/models.md).

    Trained on features as of ``train_cutoff`` with labels from ``(train_cutoff, train_cutoff +
    horizon]``; evaluated on features as of ``eval_cutoff`` (later) with labels from
    ``(eval_cutoff, eval_cutoff + horizon]``. ``pipeline`` is the fitted scikit-learn pipeline
    (joblib) the rescoring applies; the page and the API read only the figures.
    """

    kind = models.CharField(max_length=20, choices=ScoreKind.choices)
    version = models.CharField(max_length=60, unique=True, help_text="e.g. churn_risk-v3; written with every score")
    horizon_days = models.PositiveIntegerField()
    train_cutoff = models.DateTimeField()
    eval_cutoff = models.DateTimeField()
    eval_until = models.DateTimeField()
    features = models.JSONField(default=list)
    train_rows = models.PositiveIntegerField()
    train_positives = models.PositiveIntegerField()
    eval_rows = models.PositiveIntegerField()
    eval_positives = models.PositiveIntegerField()
    auc = models.FloatField(null=True)
    brier = models.FloatField()
    base_rate = models.FloatField(help_text="Share of positives in the evaluation window")
    # [{"predicted": mean predicted, "observed": share positive, "rows": n}] per probability bin.
    calibration = models.JSONField(default=list)
    # [{"feature": name, "weight": coefficient on the standardised feature}], largest |weight| first.
    importances = models.JSONField(default=list)
    trained_at = models.DateTimeField()
    duration_seconds = models.FloatField()
    pipeline = models.BinaryField()
    scored_customers = models.PositiveIntegerField(default=0)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-trained_at", "-id"]
        indexes = [models.Index(fields=["kind", "-trained_at"], name="modelrun_kind_recent")]

    def __str__(self) -> str:
        return self.version
