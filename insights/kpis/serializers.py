"""The KPI API's input (query parameters) and output."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cea.common.channels import Channel
from cea.common.serializers import CharField
from insights.kpis.definitions import KPIS
from insights.kpis.selectors import DIMENSIONS, Interval
from records.customers.models import ValueTier

ROW_ID_MAX = 2**63 - 1
MAX_RANGE_DAYS = 3 * 366
MAX_QUARTER_HOUR_RANGE_DAYS = 31


class KpiSeriesQuerySerializer(serializers.Serializer):
    kpis = serializers.MultipleChoiceField(choices=list(KPIS), help_text="One or more KPIs (repeat the parameter)")
    start = serializers.DateTimeField(help_text="Inclusive; without an offset, in the deployment's time zone")
    end = serializers.DateTimeField(help_text="Exclusive; after start")
    interval = serializers.ChoiceField(choices=[interval.value for interval in Interval], default=Interval.DAY.value)
    group_by = serializers.MultipleChoiceField(choices=list(DIMENSIONS), required=False, default=set)
    queue = serializers.ListField(child=CharField(max_length=100), required=False, default=list)
    channel = serializers.MultipleChoiceField(choices=Channel.choices, required=False, default=set)
    team = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ROW_ID_MAX), required=False, default=list
    )
    agent = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ROW_ID_MAX), required=False, default=list
    )
    wrap_up_code = serializers.ListField(child=CharField(max_length=50), required=False, default=list)
    customer_tier = serializers.MultipleChoiceField(choices=ValueTier.choices, required=False, default=set)
    compare = serializers.BooleanField(
        required=False, default=False, help_text="Add the previous period of the same length, immediately before"
    )
    business_hours_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Count only the 15-minute intervals that start while the queue (or, without one, the team's"
        " queues) is open (docs/kpis.md); not for the case backlog",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        span = attrs["end"] - attrs["start"]
        if span.total_seconds() <= 0:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        if span.days > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"end": f"A range is at most {MAX_RANGE_DAYS} days."})
        if attrs["interval"] == Interval.QUARTER_HOUR and span.days > MAX_QUARTER_HOUR_RANGE_DAYS:
            raise serializers.ValidationError(
                {"interval": f"15-minute intervals cover at most {MAX_QUARTER_HOUR_RANGE_DAYS} days."}
            )
        return attrs


class KpiDefinitionSerializer(serializers.Serializer):
    name = CharField()
    label = CharField()
    unit = CharField(help_text="count, seconds, percent or per_hour")
    formula = CharField()
    numerator = CharField()
    denominator = CharField()


class KpiInfoSerializer(KpiDefinitionSerializer):
    variant = CharField(help_text="The service level's formula(s) behind the figures; empty for other KPIs")


class KpiValueSerializer(serializers.Serializer):
    numerator = serializers.FloatField()
    denominator = serializers.FloatField(allow_null=True, help_text="Null for a count")
    value = serializers.FloatField(allow_null=True, help_text="Null when the denominator is 0")
    variant = CharField(help_text="The service level's formula(s) of this figure")


class SeriesRowSerializer(serializers.Serializer):
    interval_start = serializers.DateTimeField(help_text="Local start of the interval")
    group = serializers.DictField(
        child=serializers.JSONField(), help_text="Each grouping dimension's value (ids for team and agent)"
    )
    values = serializers.DictField(child=KpiValueSerializer(), help_text="By KPI name")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    rows = SeriesRowSerializer(many=True)


class KpiSeriesSerializer(serializers.Serializer):
    kpis = KpiInfoSerializer(many=True)
    interval = CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    group_by = serializers.ListField(child=CharField())
    time_zone = CharField()
    rows = SeriesRowSerializer(many=True)
    previous = PeriodSerializer(allow_null=True, help_text="With compare: the period of the same length before")
    business_hours_only = serializers.BooleanField(help_text="The figures count business hours only")
