"""Serializers of the people side of schedules (issue 15, part D)."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer, TrueFalseField, WholeNumberField
from engagement.wfm.scheduling.models import ActivityKind, SwapRequest, TimeOff, TimeOffKind
from engagement.wfm.scheduling.serializers import ShiftSerializer


class ShiftEditSerializer(serializers.Serializer):
    shift = ShiftSerializer()
    warnings = serializers.ListField(child=CharField())


class TimeOffSerializer(ModelSerializer):
    class Meta:
        model = TimeOff
        fields = [
            "id",
            "agent",
            "kind",
            "starts_at",
            "ends_at",
            "status",
            "note",
            "requested_by",
            "decided_by",
            "decided_at",
            "created_at",
        ]


class TimeOffInputSerializer(serializers.Serializer):
    """Without ``agent``: the caller asks for themselves. With it: a planner enters it (approved at once)."""

    agent = WholeNumberField(required=False)
    kind = serializers.ChoiceField(choices=TimeOffKind.choices, default=TimeOffKind.HOLIDAY)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    note = CharField(max_length=300, required=False, allow_blank=True, default="")


class DecisionSerializer(serializers.Serializer):
    approve = TrueFalseField()
    override_contract = TrueFalseField(required=False, default=False)


class RespondSerializer(serializers.Serializer):
    accept = TrueFalseField()


class SwapSerializer(ModelSerializer):
    class Meta:
        model = SwapRequest
        fields = [
            "id",
            "requester",
            "shift",
            "counterpart",
            "counterpart_shift",
            "status",
            "note",
            "created_at",
            "decided_by",
            "decided_at",
        ]


class SwapInputSerializer(serializers.Serializer):
    shift = WholeNumberField()
    counterpart = WholeNumberField()
    counterpart_shift = WholeNumberField(required=False, allow_null=True, default=None)
    note = CharField(max_length=300, required=False, allow_blank=True, default="")


class ActivityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    planning_queue = WholeNumberField(required=False, allow_null=True, default=None)


class ShiftInputSerializer(serializers.Serializer):
    """A shift's times and, optionally, its activities (without: contacts throughout on create, the
    existing activities reshaped on update)."""

    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    activities = ActivityInputSerializer(many=True, required=False)


class ShiftCreateInputSerializer(ShiftInputSerializer):
    agent = WholeNumberField()


class MyDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    shifts = ShiftSerializer(many=True)
