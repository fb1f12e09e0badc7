"""REST API of a customer's consent history (whoever may see the customer)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.serializers import CharField
from records.access import access_customer
from records.privacy.consent_history import consent_history


class ConsentChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    channel = CharField()
    purpose = CharField()
    granted = serializers.BooleanField(allow_null=True)
    change = CharField(help_text="granted, withdrawn or removed")
    given_at = serializers.DateTimeField(allow_null=True, help_text="When the customer said so")
    user_id = serializers.IntegerField(allow_null=True, help_text="Who recorded it; null for the system")
    username = CharField(allow_null=True)

    def get_fields(self):
        # ``source`` cannot be a class attribute: it would shadow DRF's ``Field.source``.
        fields = super().get_fields()
        fields["source"] = CharField(help_text="Where it was captured (web form, agent, import …)")
        return fields


class CustomerConsentHistoryApi(APIView):
    """Every change of the customer's consents, newest first: granted or withdrawn, by whom, when, from where."""

    scope_resource = "customers"

    @extend_schema(responses=ConsentChangeSerializer(many=True))
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        return Response(ConsentChangeSerializer(consent_history(customer=customer), many=True).data)
