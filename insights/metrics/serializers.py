"""The engagement metrics' query (the API's and the page's) and the API's output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cea.common.channels import Channel
from cea.common.serializers import CharField

MAX_MONTHS = 36
FIRST_MONTH = dt.date(1900, 1, 1)  # the earliest month the API takes (its pattern: 1900-01 … 2999-12)
NO_PERSONA = "-"  # the persona parameter's value for customers without a persona
DEFAULT_MONTHS = 6


@extend_schema_field({"type": "string", "pattern": r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$", "example": "2026-07"})
class MonthField(serializers.Field):
    """A calendar month as ``YYYY-MM`` (the first day of it, as a date, once read)."""

    default_error_messages = {"invalid": "Give a month from 1900-01 to 2999-12 as YYYY-MM, e.g. 2026-07."}

    def to_internal_value(self, data: Any) -> dt.date:
        try:
            month = dt.datetime.strptime(str(data), "%Y-%m").date()
        except ValueError:
            self.fail("invalid")
        if not FIRST_MONTH.year <= month.year <= 2999:
            self.fail("invalid")
        return month

    def to_representation(self, value: dt.date) -> str:
        return f"{value.year:04d}-{value.month:02d}"


def months_back(month: dt.date, count: int) -> dt.date:
    """The month ``count`` months before ``month``."""
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


class EngagementMetricsQuerySerializer(serializers.Serializer):
    first = MonthField(
        required=False, help_text=f"First month (YYYY-MM); default {DEFAULT_MONTHS - 1} months before last"
    )
    last = MonthField(required=False, help_text="Last month, included (YYYY-MM); default this month")
    persona = CharField(
        required=False,
        allow_blank=True,
        max_length=50,
        help_text=f"Only this persona's customers; {NO_PERSONA!r}: those without one; blank or absent: everyone",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Count contacts on this channel only",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        last = attrs.get("last") or timezone.localdate().replace(day=1)
        first = attrs.get("first") or max(months_back(last, DEFAULT_MONTHS - 1), FIRST_MONTH)
        if first > last:
            raise serializers.ValidationError({"last": "The last month must not be before the first."})
        if months_back(last, MAX_MONTHS - 1) > first:
            raise serializers.ValidationError({"first": f"A range is at most {MAX_MONTHS} months."})
        persona = attrs.get("persona") or None
        return {**attrs, "first": first, "last": last, "persona": "" if persona == NO_PERSONA else persona}


class RateSerializer(serializers.Serializer):
    part = serializers.IntegerField()
    whole = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True, help_text="part ÷ whole; null when whole is 0")


class MonthFiguresSerializer(serializers.Serializer):
    month = MonthField()
    engagement = RateSerializer(help_text="Customers engaged in the month ÷ customers by its end")
    churn = RateSerializer(help_text="Customers who lapsed in the month ÷ customers active at its start")


class GroupFiguresSerializer(serializers.Serializer):
    key = CharField(allow_blank=True)
    engagement = RateSerializer()


class CohortSerializer(serializers.Serializer):
    month = MonthField()
    size = serializers.IntegerField()
    retained = serializers.ListField(child=serializers.IntegerField())
    retention = serializers.ListField(child=serializers.FloatField(allow_null=True))
    churn = RateSerializer()


class LifetimeValueSerializer(serializers.Serializer):
    revenue = serializers.DecimalField(max_digits=20, decimal_places=2)
    active_customer_months = serializers.IntegerField()
    monthly_churn = serializers.FloatField(allow_null=True)
    monthly_value = serializers.FloatField(allow_null=True)
    expected_months = serializers.FloatField(allow_null=True)
    estimate = serializers.FloatField(allow_null=True)
    reason = CharField(allow_blank=True)


class StageMetricsSerializer(serializers.Serializer):
    key = CharField()
    name = CharField()
    entered = serializers.IntegerField(help_text="Stage visits entered (all time)")
    current = serializers.IntegerField(help_text="Customers in the stage now")
    conversion = serializers.FloatField(allow_null=True, help_text="Visits that moved on to a later stage ÷ entered")
    drop_off = serializers.FloatField(allow_null=True, help_text="Visits that ended in a drop-off stage ÷ entered")
    median_days = serializers.FloatField(allow_null=True, help_text="Median time in the stage, days (ended visits)")
    sentiment = serializers.FloatField(allow_null=True, help_text="Mean sentiment of the contacts during the stage")
    satisfaction = serializers.FloatField(
        allow_null=True, help_text="CSAT of the contacts during the stage: answers of 4-5 ÷ CSAT answers × 100"
    )
    effort = serializers.FloatField(
        allow_null=True,
        help_text="Average CES answer (1 very difficult … 7 very easy) of the contacts during the stage",
    )


class EngagementMetricsSerializer(serializers.Serializer):
    first_month = MonthField()
    last_month = MonthField()
    persona = CharField(allow_null=True, allow_blank=True)
    channel = CharField(allow_blank=True)
    months = MonthFiguresSerializer(many=True)
    by_persona = GroupFiguresSerializer(many=True)
    by_channel = GroupFiguresSerializer(many=True)
    cohorts = CohortSerializer(many=True)
    lifetime_value = LifetimeValueSerializer()
    stages = StageMetricsSerializer(many=True)
    surveys = serializers.BooleanField(
        help_text="Whether any survey answer falls in a stage (else satisfaction and effort are null)"
    )
