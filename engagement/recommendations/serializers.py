from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer
from engagement.recommendations.models import SHOWN_FIELDS, RecommendationStatus, RecommendedAction


class RecommendedActionSerializer(ModelSerializer):
    class Meta:
        model = RecommendedAction
        fields = ["id", *SHOWN_FIELDS]
        read_only_fields = fields


class RecommendationListQuerySerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(choices=["open", *RecommendationStatus.values], default="open")
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


class DecisionInputSerializer(serializers.Serializer):
    note = CharField(max_length=2000, required=False, default="", allow_blank=True)
