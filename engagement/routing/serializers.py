from __future__ import annotations

from rest_framework import serializers

from cea.common.openapi import BLANK, NOT_BLANK
from cea.common.serializers import CharField, SlugField
from engagement.routing.models import Presence

AWAY = f"^{Presence.AWAY}$"


class PresenceInputSerializer(serializers.Serializer):
    presence = serializers.ChoiceField(choices=Presence.choices)
    reason = CharField(required=False, allow_blank=True, default="", max_length=40)

    # For the schema: presence_set's rule, a reason with away and only with away (whether the
    # code is an active reason is the database's to say). "away" as a pattern: drf-spectacular
    # turns an enum under "properties" into the field's whole enum component.
    request_schema_rules = {
        "oneOf": [
            {
                "properties": {"presence": {"pattern": AWAY}, "reason": {"pattern": NOT_BLANK}},
                "required": ["reason"],
            },
            {"properties": {"presence": {"not": {"pattern": AWAY}}, "reason": {"pattern": BLANK}}},
        ]
    }


class PresenceSerializer(serializers.Serializer):
    presence = CharField()
    label = CharField()
    reason = CharField()
    reason_label = CharField()
    since = serializers.DateTimeField()
    after_contact_until = serializers.DateTimeField(allow_null=True)
    load_units = serializers.IntegerField()
    capacity_units = serializers.IntegerField()


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    work_item = serializers.IntegerField()
    conversation = serializers.IntegerField()
    channel = CharField()
    channel_label = CharField()
    queue = CharField()
    customer = CharField()
    subject = CharField()
    verification_level = CharField()
    priority = serializers.IntegerField()
    note = CharField()
    transfer = serializers.BooleanField()
    offered_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    seconds = serializers.IntegerField()


class RejectInputSerializer(serializers.Serializer):
    reason = CharField(required=False, allow_blank=True, default="", max_length=200)


class TransferInputSerializer(serializers.Serializer):
    to_queue = SlugField(required=False, allow_blank=True, default="", max_length=100)
    to_agent = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    note = CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs):
        if bool(attrs["to_queue"]) == (attrs["to_agent"] is not None):
            raise serializers.ValidationError("Give to_queue or to_agent, not both.")
        return attrs


class WrapUpInputSerializer(serializers.Serializer):
    wrap_up_code = SlugField(max_length=50)
    disposition = CharField(required=False, allow_blank=True, default="", max_length=50)
    notes = CharField(required=False, allow_blank=True, default="", max_length=10_000)
    after_contact = serializers.BooleanField(required=False, default=False)


class WorkItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField(source="conversation_id")
    queue = CharField(source="queue.name")
    status = CharField()
    priority = serializers.IntegerField()
    priority_reasons = serializers.DictField()
    enqueued_at = serializers.DateTimeField()
    wait_seconds = serializers.FloatField(allow_null=True)
    note = CharField()


class QueueStatsSerializer(serializers.Serializer):
    name = CharField()
    label = CharField()
    channel = CharField()
    team = CharField(allow_null=True)
    waiting = serializers.IntegerField()
    offered = serializers.IntegerField()
    oldest_wait_seconds = serializers.FloatField(allow_null=True)
    agents_available = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    service_level_target = CharField()
    service_level_percent = serializers.FloatField(allow_null=True)


class CodeSerializer(serializers.Serializer):
    code = CharField()
    label = CharField()
