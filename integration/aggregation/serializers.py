"""The aggregated customer view as the REST API shows it."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from cea.common.serializers import CharField
from integration.aggregation.aggregate import OK, REASONS


class AggregateInputSerializer(serializers.Serializer):
    deadline_ms = serializers.IntegerField(
        required=False,
        min_value=50,
        help_text="Answer within this many milliseconds (at most CEA_AGGREGATE_DEADLINE_MS, its default)",
    )

    def validate_deadline_ms(self, value: int) -> int:
        return min(value, settings.CEA_AGGREGATE_DEADLINE_MS)


class AggregatePartSerializer(serializers.Serializer):
    connector = CharField()
    label = CharField()
    system = CharField()
    external_id = CharField(help_text="The customer's id in the system ('' when not linked)")
    status = serializers.ChoiceField(
        choices=[OK, *REASONS], help_text="'ok', or why the part is missing: " + ", ".join(REASONS)
    )
    message = CharField(help_text="Why the part is missing, without secrets ('' when ok)")
    permanent = serializers.BooleanField(help_text="For an error: asking again will not help")
    cached = serializers.BooleanField(help_text="Served from the cache")
    age_seconds = serializers.FloatField(allow_null=True, help_text="How old the data is (0 when just fetched)")
    elapsed_ms = serializers.FloatField(allow_null=True, help_text="How long the call took (null when none was made)")
    data = serializers.JSONField(allow_null=True, help_text="What the system answered: its record and holdings")


class CustomerAggregateSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    complete = serializers.BooleanField(help_text="Every system that knows the customer answered")
    elapsed_ms = serializers.FloatField()
    parts = AggregatePartSerializer(many=True)
