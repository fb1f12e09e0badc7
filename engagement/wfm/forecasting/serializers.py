"""Serializers of forecasting's API: runs and their backtest, intervals, adjustments, special days."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, DayField, ModelSerializer
from engagement.wfm.forecasting.models import BacktestScore, ForecastInterval, ForecastRun, SpecialDay


class BacktestScoreSerializer(ModelSerializer):
    class Meta:
        model = BacktestScore
        fields = ["horizon", "method", "wape", "mape", "aht_wape", "origins", "chosen"]


class ForecastRunSerializer(ModelSerializer):
    scores = BacktestScoreSerializer(many=True, read_only=True)

    class Meta:
        model = ForecastRun
        fields = [
            "id",
            "planning_queue",
            "kind",
            "status",
            "started_at",
            "finished_at",
            "history_start",
            "history_end",
            "horizon_start",
            "horizon_end",
            "methods",
            "beats_baselines",
            "fit_seconds",
            "error",
            "scores",
        ]


class PlanningQueueForecastSerializer(serializers.Serializer):
    """A planning queue and its latest finished run (``null`` before the first)."""

    id = serializers.IntegerField()
    queue = CharField()
    channel = CharField()
    interval_minutes = serializers.IntegerField()
    latest_run = ForecastRunSerializer(allow_null=True)


class ForecastIntervalSerializer(ModelSerializer):
    planned_volume = serializers.FloatField(read_only=True)
    planned_aht = serializers.FloatField(read_only=True)
    special_day = CharField(source="special_day.name", default=None, read_only=True)

    class Meta:
        model = ForecastInterval
        fields = [
            "interval_start",
            "method",
            "run",
            "volume",
            "aht_seconds",
            "volume_adjusted",
            "aht_adjusted",
            "planned_volume",
            "planned_aht",
            "special_day",
            "adjusted_at",
            "adjustment_note",
        ]


class IntervalRangeSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs: dict) -> dict:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        if (attrs["end"] - attrs["start"]).days > 62:
            raise serializers.ValidationError({"end": "At most 62 days at once."})
        return attrs


class AdjustmentInputSerializer(IntervalRangeSerializer):
    volume = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1_000_000)
    volume_percent = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1000)
    aht_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=86_400)
    note = CharField(required=False, allow_blank=True, max_length=200, default="")
    clear = serializers.BooleanField(required=False, default=False)


class SpecialDaySerializer(ModelSerializer):
    class Meta:
        model = SpecialDay
        fields = ["id", "planning_queue", "day", "name", "volume_factor", "aht_factor"]
        read_only_fields = ["id"]
        validators: list = []  # uniqueness is the service's check, with a field message


class SpecialDayInputSerializer(serializers.Serializer):
    planning_queue = serializers.IntegerField(required=False, allow_null=True, default=None)
    day = DayField()
    name = CharField(max_length=100)
    volume_factor = serializers.FloatField(min_value=0, max_value=10, default=1.0)
    aht_factor = serializers.FloatField(min_value=0.01, max_value=10, default=1.0)
