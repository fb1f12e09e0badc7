"""REST API of the journey stages: the journey map's figures and a customer's stage history.

API tokens need ``insights:read``. The map is for supervisors (their teams' customers), admins and
clients; a customer's history for anyone who may see that customer.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.replica import reads_from_replica
from cea.common.serializers import CharField
from insights.access import require_customer_insight_reader
from insights.journeys.selectors import customer_stage_history, journey_map
from insights.journeys.views import persona_param
from records.access import access_customer, customers_visible_to, interactions_visible_to


class JourneyMapQuerySerializer(serializers.Serializer):
    persona = CharField(
        required=False, allow_blank=True, max_length=50, help_text="A persona key; '-' for customers without one"
    )


class ChannelFiguresSerializer(serializers.Serializer):
    channel = CharField()
    contacts = serializers.IntegerField()
    sentiment = serializers.FloatField(allow_null=True)
    moved_forward = serializers.IntegerField()
    effectiveness = serializers.FloatField(allow_null=True, help_text="moved_forward / contacts")


class StageFiguresSerializer(serializers.Serializer):
    key = CharField()
    name = CharField()
    order = serializers.IntegerField()
    is_drop_off = serializers.BooleanField()
    entered = serializers.IntegerField()
    current = serializers.IntegerField()
    median_seconds_in_stage = serializers.FloatField(allow_null=True)
    moved_forward = serializers.IntegerField()
    moved_back = serializers.IntegerField()
    dropped_off = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True)
    drop_off = serializers.FloatField(allow_null=True)
    sentiment = serializers.FloatField(allow_null=True)
    customer_sentiment_score = serializers.FloatField(allow_null=True)
    channels = ChannelFiguresSerializer(many=True)


class PersonaCountSerializer(serializers.Serializer):
    persona = CharField(allow_blank=True)
    customers = serializers.IntegerField()


class FlowSerializer(serializers.Serializer):
    from_stage = CharField()
    to_stage = CharField()
    visits = serializers.IntegerField()


class JourneyMapSerializer(serializers.Serializer):
    persona = CharField(allow_null=True, allow_blank=True)
    personas = PersonaCountSerializer(many=True)
    satisfaction_and_effort = CharField()
    stages = StageFiguresSerializer(many=True)
    flows = FlowSerializer(many=True)


class JourneyMapApi(APIView):
    """Stages with volumes, conversion, median time in stage, drop-off, sentiment, channels; the flows."""

    scope_resource = "insights"

    @extend_schema(parameters=[JourneyMapQuerySerializer], responses=JourneyMapSerializer)
    @reads_from_replica
    def get(self, request):
        query = JourneyMapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        require_customer_insight_reader(request.user, "Journey maps")
        figures = journey_map(
            customers=customers_visible_to(request.user),
            interactions=interactions_visible_to(request.user),
            persona=persona_param(query.validated_data.get("persona")),
        )
        return Response(JourneyMapSerializer(figures.as_dict()).data)


class StageVisitSerializer(serializers.Serializer):
    stage = CharField(source="stage_key")
    entered_at = serializers.DateTimeField()
    left_at = serializers.DateTimeField(allow_null=True)
    event_id = serializers.IntegerField(allow_null=True)
    rule_id = serializers.IntegerField(allow_null=True)


class CustomerStagesSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    stage = CharField(allow_blank=True)
    since = serializers.DateTimeField(allow_null=True)
    visits = StageVisitSerializer(many=True)


class CustomerStagesApi(APIView):
    """A customer's journey stage now and its history, newest first."""

    scope_resource = "insights"

    @extend_schema(responses=CustomerStagesSerializer)
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        history = {
            "customer_id": customer.pk,
            "stage": customer.journey_stage,
            "since": customer.journey_stage_since,
            "visits": customer_stage_history(customer_id=customer.pk),
        }
        return Response(CustomerStagesSerializer(history).data)
