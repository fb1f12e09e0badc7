"""REST API of proactive outbound: start a conversation with a customer, book a callback.

``POST /api/v1/engagement/conversations/outbound/`` and ``POST /api/v1/engagement/callbacks/`` (``GET``
lists the callbacks of the user's teams' customers, with their attempts). The
customer is fetched through ``records.access`` (unknown 404, another team's 403); the services check
the rest (``require_outreach``, consent, an address). API tokens need ``conversations:write``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement.backoffice.apis import CallbackFilter
from engagement.backoffice.selectors import callbacks_visible_to
from engagement.backoffice.serializers import CallbackDetailSerializer
from engagement.conversations.models import Conversation
from engagement.conversations.serializers import ConversationSerializer
from engagement.outbound.models import Callback
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


class CallbackRequestApi(generics.ListAPIView):
    """``GET``: the callbacks of the user's teams' customers with their attempts (``?status=gave_up`` …),
    latest due first. ``POST``: book one."""

    scope_resource = "conversations"
    serializer_class = CallbackDetailSerializer
    filterset_class = CallbackFilter
    ordering_fields = ["due_at", "created_at", "id"]
    ordering = ["-due_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Callback.objects.none()
        return callbacks_visible_to(user=self.request.user)

    @extend_schema(request=CallbackInputSerializer, responses={201: CallbackSerializer})
    def post(self, request):
        customer, fields = _customer_and_fields(request, CallbackInputSerializer)
        callback = callback_request(actor=request.user, customer=customer, **fields)
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)
