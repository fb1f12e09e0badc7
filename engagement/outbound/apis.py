"""REST API of proactive outbound: start a conversation with a customer, book a callback.

``POST /api/v1/engagement/conversations/outbound/`` and ``POST /api/v1/engagement/callbacks/``. The
customer is fetched through ``records.access`` (unknown 404, another team's 403); the services check
the rest (``require_outreach``, consent, an address). API tokens need ``conversations:write``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement.conversations.models import Conversation
from engagement.conversations.serializers import ConversationSerializer
from engagement.outbound.serializers import CallbackInputSerializer, CallbackSerializer, OutboundInputSerializer
from engagement.outbound.services import callback_request, outbound_start
from records.access import access_customer


def _customer_and_fields(request, serializer_class) -> tuple:
    """The request's validated fields without ``customer``, and that customer if the user may see them."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    return access_customer(request.user, fields.pop("customer")), fields


class OutboundStartApi(APIView):
    scope_resource = "conversations"

    @extend_schema(request=OutboundInputSerializer, responses={201: ConversationSerializer})
    def post(self, request):
        customer, fields = _customer_and_fields(request, OutboundInputSerializer)
        conversation = outbound_start(actor=request.user, customer=customer, **fields)
        conversation = Conversation.objects.select_related("customer", "team", "agent").get(pk=conversation.pk)
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class CallbackRequestApi(APIView):
    scope_resource = "conversations"

    @extend_schema(request=CallbackInputSerializer, responses={201: CallbackSerializer})
    def post(self, request):
        customer, fields = _customer_and_fields(request, CallbackInputSerializer)
        callback = callback_request(actor=request.user, customer=customer, **fields)
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)
