"""Shapes of the self-service API: IVR inputs and replies, knowledge search, containment."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.openapi import BLANK
from cea.common.serializers import CharField, ModelSerializer, RegexField
from engagement.selfservice.models import KnowledgeArticle


class IvrInputSerializer(serializers.Serializer):
    digits = RegexField(
        r"^[0-9*#]{0,32}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="DTMF keys the caller pressed (0-9, *, #).",
        error_messages={"invalid": "Digits are 0-9, * and # only, at most 32."},
    )
    speech = CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="What the caller said, as text."
    )
    input_id = CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="The platform's id of this input event: the same id twice is handled once.",
    )
    caller = CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text="The caller's number, used to identify the customer when the call is new.",
    )

    # For the schema: validate's rule, digits or speech, not both (at least one blank once trimmed).
    request_schema_rules = {
        "anyOf": [{"properties": {"digits": {"pattern": BLANK}}}, {"properties": {"speech": {"pattern": BLANK}}}]
    }

    def validate(self, attrs: dict) -> dict:
        if attrs["digits"] and attrs["speech"].strip():
            raise serializers.ValidationError("Send digits or speech, not both.")
        return attrs


class IvrExpectSerializer(serializers.Serializer):
    kind = CharField(help_text="menu, ask, yes_no or free")
    choices = serializers.ListField(child=CharField(), help_text="Keys a caller may press at a menu")


class IvrReplySerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    call_id = CharField()
    status = CharField(help_text="self_service, queued, active or ended")
    prompts = serializers.ListField(child=CharField(), help_text="What to play, in order")
    gather = serializers.BooleanField(help_text="Collect the caller's next input after the prompts")
    expect = IvrExpectSerializer(allow_null=True, help_text="The input awaited, when gather is true")
    transfer = serializers.BooleanField(help_text="Transfer the call to the agents' queue")
    queue = CharField(allow_blank=True)
    hangup = serializers.BooleanField(help_text="The conversation has ended: hang up after the prompts")
    replayed = serializers.BooleanField(help_text="This input was handled before; these are the prompts given then")


class KnowledgeSearchQuerySerializer(serializers.Serializer):
    q = CharField(max_length=200, help_text='Web search syntax: words, "a phrase", or, -word')
    limit = serializers.IntegerField(required=False, default=5, min_value=1, max_value=20)


class KnowledgeHitSerializer(ModelSerializer):
    rank = serializers.FloatField(read_only=True)

    class Meta:
        model = KnowledgeArticle
        fields = ["id", "title", "body", "keywords", "language", "rank"]


class KnowledgeSearchSerializer(serializers.Serializer):
    query = CharField()
    count = serializers.IntegerField()
    results = KnowledgeHitSerializer(many=True)


class ContainmentQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: seven days before end")
    end = serializers.DateTimeField(required=False, help_text="Default: now")

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        return attrs


class ContainmentRowSerializer(serializers.Serializer):
    channel = CharField(help_text="The channel; empty for the total")
    ended = serializers.IntegerField(help_text="Conversations that ended in the period")
    contained = serializers.IntegerField(help_text="Of those, solved without an agent")
    rate = serializers.FloatField(allow_null=True, help_text="contained / ended; null when none ended")


class ContainmentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    channels = ContainmentRowSerializer(many=True)
    total = ContainmentRowSerializer()
