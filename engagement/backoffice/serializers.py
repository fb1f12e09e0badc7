from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer
from engagement.backoffice.models import BackofficeWork
from engagement.outbound.models import Callback, CallbackOutcome


class CaseRouteInputSerializer(serializers.Serializer):
    case = CharField(max_length=40, help_text="The case's id or reference (CS-…)")
    queue = CharField(max_length=100)
    note = CharField(max_length=5_000, required=False, default="", allow_blank=True)


class TaskInputSerializer(serializers.Serializer):
    title = CharField(max_length=200)
    queue = CharField(max_length=100)
    description = CharField(max_length=5_000, required=False, default="", allow_blank=True)
    team = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True, default=None)
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CompleteInputSerializer(serializers.Serializer):
    outcome = CharField(max_length=500)


class BackofficeWorkSerializer(ModelSerializer):
    case_reference = CharField(source="case.reference", default=None, read_only=True)

    class Meta:
        model = BackofficeWork
        fields = [
            "id",
            "kind",
            "case",
            "case_reference",
            "customer",
            "team",
            "title",
            "description",
            "queue",
            "due_at",
            "status",
            "conversation",
            "outcome",
            "completed_by",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields


class CallbackOutcomeInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallbackOutcome.choices)
    note = CharField(max_length=500, required=False, default="", allow_blank=True)


class CallbackOfferInputSerializer(serializers.Serializer):
    token = CharField(max_length=500)
    phone = CharField(max_length=32, required=False, default="", allow_blank=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    site_key = CharField(
        max_length=40,
        required=False,
        default="",
        allow_blank=True,
        help_text="The chat widget's site key: its allowed origins may read the answer (cross-origin)",
    )


class CallbackBookedSerializer(ModelSerializer):
    """What the anonymous caller who booked a callback is told: when, and nothing of the customer."""

    class Meta:
        model = Callback
        fields = ["id", "queue", "due_at", "status"]
        read_only_fields = fields


class CallbackDetailSerializer(ModelSerializer):
    class Meta:
        model = Callback
        fields = [
            "id",
            "customer",
            "queue",
            "reason",
            "source",
            "due_at",
            "status",
            "conversation",
            "attempts",
            "max_attempts",
            "retry_minutes",
            "attempt_log",
            "finished_at",
            "created_at",
        ]
        read_only_fields = fields
