"""Shapes of staffing in the API: the calculator's input and answer, a day's requirements."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import DayField, ModelSerializer
from engagement.wfm.planning.models import IntervalMinutes, StaffingModel, TargetKind
from engagement.wfm.staffing.calculator import calculator_problems
from engagement.wfm.staffing.models import StaffingRequirement


class NumberField(serializers.FloatField):
    """A JSON number: not ``true``/``false`` (DRF reads them as 1 and 0), not a string of digits."""

    default_error_messages = {"not_a_number": "Must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number")
        return super().to_internal_value(data)


class CalculateInputSerializer(serializers.Serializer):
    """One interval's what-if: contacts in the interval, AHT, target, model and caps."""

    volume = NumberField(min_value=0, max_value=1_000_000)
    aht_seconds = NumberField(min_value=1, max_value=86_400)
    interval_minutes = serializers.ChoiceField(choices=IntervalMinutes.choices, default=IntervalMinutes.FIFTEEN)
    model = serializers.ChoiceField(choices=StaffingModel.choices, default=StaffingModel.ERLANG_C)
    target_kind = serializers.ChoiceField(choices=TargetKind.choices, default=TargetKind.SERVICE_LEVEL)
    service_level_percent = serializers.IntegerField(min_value=1, max_value=99, default=80)
    service_level_seconds = serializers.IntegerField(min_value=1, max_value=3600, default=20)
    asa_seconds = serializers.IntegerField(min_value=1, max_value=3600, required=False, allow_null=True)
    patience_seconds = serializers.IntegerField(min_value=1, max_value=86_400, required=False, allow_null=True)
    concurrency = serializers.IntegerField(min_value=1, max_value=10, default=1)
    max_occupancy_percent = serializers.IntegerField(min_value=1, max_value=100, default=100)
    shrinkage_percent = serializers.IntegerField(min_value=0, max_value=95, default=0)

    def validate(self, attrs):
        problems = calculator_problems(attrs)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class CalculationRowSerializer(serializers.Serializer):
    agents = serializers.IntegerField()
    service_level = serializers.FloatField(allow_null=True)
    asa_seconds = serializers.FloatField(allow_null=True)
    occupancy = serializers.FloatField(allow_null=True)
    abandon_rate = serializers.FloatField(allow_null=True)
    meets_target = serializers.BooleanField()


class CalculationSerializer(serializers.Serializer):
    traffic_erlangs = serializers.FloatField()
    agents = serializers.IntegerField(source="result.agents")
    agents_with_shrinkage = serializers.FloatField()
    shrinkage_percent = serializers.FloatField()
    service_level = serializers.FloatField(source="result.service_level", allow_null=True)
    asa_seconds = serializers.FloatField(source="result.asa_seconds", allow_null=True)
    occupancy = serializers.FloatField(source="result.occupancy", allow_null=True)
    abandon_rate = serializers.FloatField(source="result.abandon_rate", allow_null=True)
    wait_probability = serializers.FloatField(source="result.wait_probability", allow_null=True)
    neighbours = CalculationRowSerializer(many=True)


class RequirementSerializer(ModelSerializer):
    class Meta:
        model = StaffingRequirement
        fields = [
            "interval_start",
            "volume",
            "aht_seconds",
            "agents",
            "agents_with_shrinkage",
            "service_level",
            "asa_seconds",
            "occupancy",
            "abandon_rate",
            "computed_at",
        ]
        read_only_fields = fields


class RequirementDayInputSerializer(serializers.Serializer):
    day = DayField()


class RequirementDaySerializer(serializers.Serializer):
    planning_queue = serializers.IntegerField(source="planning_queue.pk")
    day = serializers.DateField()
    totals = serializers.DictField(child=serializers.FloatField())
    requirements = RequirementSerializer(many=True)
