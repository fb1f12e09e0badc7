"""How the supervisor's tools travel over the REST API."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, SlugField
from engagement.routing.serializers import PresenceInputSerializer
from engagement.supervision.services import MAX_NOTE_CHARS, MAX_WHISPER_CHARS


class LiveConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = CharField()
    channel_label = CharField()
    status = CharField(help_text="queued (waiting for an agent) or active (with an agent)")
    status_label = CharField()
    queue = CharField()
    queue_label = CharField()
    team = CharField()
    agent_id = serializers.IntegerField(allow_null=True)
    agent = CharField(help_text="The handling agent's name; blank while waiting")
    customer = CharField()
    subject = CharField()
    started_at = serializers.DateTimeField()
    waiting_since = serializers.DateTimeField(allow_null=True)
    wait_seconds = serializers.FloatField(
        allow_null=True, help_text="Waiting: so far; with an agent: how long the customer waited"
    )
    work_item = serializers.IntegerField(allow_null=True, help_text="Its open work item (to move or re-queue)")
    work_status = CharField()
    sentiment = serializers.FloatField(allow_null=True, help_text="-1 … 1 from the live context; null: unknown")
    sentiment_label = CharField()
    sentiment_alert = CharField(help_text="A strongly negative customer turn (insights' alert), in words; empty: none")


class SupervisorActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = CharField()
    supervisor = serializers.IntegerField(source="supervisor_id", allow_null=True)
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    agent = serializers.IntegerField(source="agent_id", allow_null=True)
    work_item = serializers.IntegerField(source="work_item_id", allow_null=True)
    message = serializers.IntegerField(source="message_id", allow_null=True)
    detail = serializers.DictField()
    at = serializers.DateTimeField()


class WhisperInputSerializer(serializers.Serializer):
    body = CharField(max_length=MAX_WHISPER_CHARS)


class AgentPresenceInputSerializer(PresenceInputSerializer):
    """An agent's presence as the agent sets it (away needs a reason code), and the supervisor's why."""

    note = CharField(
        required=False, allow_blank=True, default="", max_length=MAX_NOTE_CHARS, help_text="Why (kept in the audit)"
    )


class WorkMoveInputSerializer(serializers.Serializer):
    to_queue = SlugField(max_length=100)
    note = CharField(required=False, allow_blank=True, default="", max_length=MAX_NOTE_CHARS)


class WorkRequeueInputSerializer(serializers.Serializer):
    note = CharField(required=False, allow_blank=True, default="", max_length=MAX_NOTE_CHARS)


class SayInputSerializer(serializers.Serializer):
    """What a supervisor who barged in writes to the customer: text only (no files)."""

    body = CharField(max_length=10_000)
    client_message_id = CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="The client's id of this message: a retried request with the same id sends nothing twice",
    )
