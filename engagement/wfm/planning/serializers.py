"""Shapes of planning queues in the API."""

from __future__ import annotations

from rest_framework import serializers

from cea.accounts.models import Team
from cea.common.serializers import CharField, ModelSerializer, TrueFalseField
from engagement.routing.models import Skill
from engagement.wfm.planning.models import IntervalMinutes, PlanningQueue, StaffingModel, TargetKind


class PlanningQueueSerializer(ModelSerializer):
    team_name = CharField(source="team.name", default=None, read_only=True)
    skill_name = CharField(source="skill.name", default=None, read_only=True)

    class Meta:
        model = PlanningQueue
        fields = [
            "id",
            "queue",
            "channel",
            "label",
            "team",
            "team_name",
            "skill",
            "skill_name",
            "interval_minutes",
            "target_kind",
            "service_level_percent",
            "service_level_seconds",
            "asa_seconds",
            "model",
            "patience_seconds",
            "concurrency",
            "max_occupancy_percent",
            "shrinkage_percent",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PlanningQueueUpdateSerializer(serializers.Serializer):
    """The fields a planner changes; each optional (PATCH). Cross-field rules are the service's."""

    label = CharField(max_length=200, required=False, allow_blank=True)  # type: ignore[assignment]
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    skill = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.all(), required=False, allow_null=True)
    interval_minutes = serializers.ChoiceField(choices=IntervalMinutes.choices, required=False)
    target_kind = serializers.ChoiceField(choices=TargetKind.choices, required=False)
    service_level_percent = serializers.IntegerField(min_value=1, max_value=99, required=False)
    service_level_seconds = serializers.IntegerField(min_value=1, required=False)
    asa_seconds = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    model = serializers.ChoiceField(choices=StaffingModel.choices, required=False)
    patience_seconds = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    concurrency = serializers.IntegerField(min_value=1, max_value=10, required=False)
    max_occupancy_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)
    shrinkage_percent = serializers.IntegerField(min_value=0, max_value=95, required=False)
    is_active = TrueFalseField(required=False)


class DiscoverInputSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, allow_null=True)
    min_contacts_per_day = serializers.FloatField(min_value=0, required=False, default=1.0)
