from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer
from engagement.outbound.models import Callback
from engagement.outbound.services import OUTBOUND_CHANNELS
from records.customers.models import ConsentPurpose


class OutboundInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    channel = serializers.ChoiceField(choices=sorted(OUTBOUND_CHANNELS))
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    text = CharField(max_length=20_000, required=False, default="", allow_blank=True)
    subject = CharField(max_length=300, required=False, default="", allow_blank=True)
    through = CharField(
        max_length=60, required=False, default="", allow_blank=True, help_text="SMS, WhatsApp: the source's name"
    )
    template = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True, default=None, help_text="WhatsApp"
    )
    params = serializers.ListField(
        child=CharField(max_length=200), max_length=20, required=False, default=list, help_text="The template's values"
    )

    def get_fields(self) -> dict:
        # "source" is also an attribute of DRF's fields: declared here, not as a class attribute.
        return {**super().get_fields(), "source": CharField(max_length=120, required=False, default="api")}


class CallbackInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    queue = CharField(max_length=100)
    reason = CharField(max_length=300)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def get_fields(self) -> dict:
        return {**super().get_fields(), "source": CharField(max_length=120, required=False, default="api")}


class CallbackSerializer(ModelSerializer):
    class Meta:
        model = Callback
        fields = ["id", "customer", "queue", "reason", "source", "due_at", "status", "conversation", "created_at"]
        read_only_fields = fields
