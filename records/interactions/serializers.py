from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from cea.accounts.models import Team
from cea.common.api import no_null_characters
from cea.common.channels import Channel, Direction
from cea.common.serializers import CharField, ModelSerializer
from records.interactions.models import Interaction


class TranscriptMessageSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False)
    author = serializers.ChoiceField(choices=["customer", "agent", "bot", "system"])
    author_name = CharField(required=False, allow_blank=True, max_length=200)
    body = CharField(allow_blank=True)


class InteractionSerializer(ModelSerializer):
    agent_username = CharField(source="agent.username", read_only=True, allow_null=True, default=None)
    handle_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "direction",
            "external_id",
            "started_at",
            "answered_at",
            "ended_at",
            "handle_seconds",
            "queue",
            "agent",
            "agent_username",
            "team",
            "transcript",
            "wrap_up_code",
            "disposition",
            "wrap_up_notes",
            "context_snapshot",
            "sentiment",
            "sentiment_label",
            "case",
            "created_at",
        ]
        read_only_fields = fields


class InteractionCreateSerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    external_id = CharField(max_length=200, required=False, allow_blank=True, default="")
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField()
    queue = CharField(max_length=100, required=False, allow_blank=True, default="")
    agent = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    transcript = TranscriptMessageSerializer(many=True, required=False)
    wrap_up_code = CharField(max_length=50, required=False, allow_blank=True, default="")
    disposition = CharField(max_length=50, required=False, allow_blank=True, default="")
    wrap_up_notes = CharField(required=False, allow_blank=True, default="")
    context_snapshot = serializers.DictField(required=False, validators=[no_null_characters])
    case = CharField(required=False, allow_null=True, help_text="Case id or reference to link")
