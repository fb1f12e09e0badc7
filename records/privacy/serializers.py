from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer
from records.privacy.models import PROCESS_FIELDS, PrivacyRequest, PrivacyRequestKind


class PrivacyRequestSerializer(ModelSerializer):
    requested_by_username = CharField(source="requested_by.username", read_only=True, allow_null=True, default=None)
    approved_by_username = CharField(source="approved_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = PrivacyRequest
        fields = [
            "id",
            "kind",
            "customer",
            "reason",
            *PROCESS_FIELDS,
            "requested_by_username",
            "approved_by_username",
        ]
        read_only_fields = fields


class PrivacyRequestInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PrivacyRequestKind.choices)
    customer = serializers.IntegerField(min_value=1)
    reason = CharField(max_length=300)


class PrivacyRejectSerializer(serializers.Serializer):
    reason = CharField(max_length=300)
