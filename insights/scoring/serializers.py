"""Serializers of the model runs' API (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer
from insights.scoring.models import ModelRun


class ModelRunSerializer(ModelSerializer):
    class Meta:
        model = ModelRun
        fields = [
            "id",
            "kind",
            "version",
            "horizon_days",
            "train_cutoff",
            "eval_cutoff",
            "eval_until",
            "features",
            "train_rows",
            "train_positives",
            "eval_rows",
            "eval_positives",
            "auc",
            "brier",
            "base_rate",
            "calibration",
            "importances",
            "trained_at",
            "duration_seconds",
            "scored_customers",
            "scored_at",
        ]
        read_only_fields = fields


class ModelHistorySerializer(serializers.Serializer):
    kind = CharField()
    name = CharField(source="label")
    latest = ModelRunSerializer(allow_null=True)
    previous = ModelRunSerializer(many=True)
