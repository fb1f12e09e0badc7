"""REST API of routing: an agent's presence and offers, transfer, wrap-up, queue statistics, codes.

The desktop uses the websocket for the same actions; integrators and scripts use this API. API
tokens need ``conversations:read`` (GET) or ``conversations:write``; offers and presence belong
to agents and supervisors (an integration client is refused with 403).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, role_of
from engagement.access import access_conversation
from engagement.orchestration import conversation_transfer, conversation_wrap_up
from engagement.routing.live import offer_json
from engagement.routing.models import Queue, ReasonCode, WorkItem, WrapUpCode
from engagement.routing.offers import offer_accept, offer_reject
from engagement.routing.presence import agent_profile_for, presence_json, presence_set
from engagement.routing.selectors import offers_pending_for, queue_stats, transfer_target_agent
from engagement.routing.serializers import (
    CodeSerializer,
    OfferSerializer,
    PresenceInputSerializer,
    PresenceSerializer,
    QueueStatsSerializer,
    RejectInputSerializer,
    TransferInputSerializer,
    WorkItemSerializer,
    WrapUpInputSerializer,
)


class MyPresenceApi(APIView):
    """The signed-in agent's presence; POST changes it (``away`` needs a reason code)."""

    scope_resource = "conversations"

    @extend_schema(responses=PresenceSerializer)
    def get(self, request):
        profile = agent_profile_for(request.user)
        return Response(PresenceSerializer(presence_json(profile)).data)

    @extend_schema(request=PresenceInputSerializer, responses=PresenceSerializer)
    def post(self, request):
        serializer = PresenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = presence_set(
            actor=request.user,
            agent_user=request.user,
            presence=serializer.validated_data["presence"],
            reason_code=serializer.validated_data["reason"],
        )
        return Response(PresenceSerializer(presence_json(profile)).data)


class MyOffersApi(APIView):
    """The signed-in agent's pending offers, oldest first."""

    scope_resource = "conversations"

    @extend_schema(responses=OfferSerializer(many=True))
    def get(self, request):
        profile = agent_profile_for(request.user)
        offers = [offer_json(offer) for offer in offers_pending_for(profile=profile)]
        return Response(OfferSerializer(offers, many=True).data)


class OfferAcceptApi(APIView):
    """Take the offered conversation: it becomes yours and active."""

    scope_resource = "conversations"

    @extend_schema(request=None, responses=WorkItemSerializer)
    def post(self, request, offer_id: str):
        conversation = offer_accept(actor=request.user, offer_id=offer_id)
        item = WorkItem.objects.select_related("queue").filter(conversation=conversation).order_by("-pk").first()
        return Response(WorkItemSerializer(item).data)


class OfferRejectApi(APIView):
    """Decline the offer: it goes to the next agent."""

    scope_resource = "conversations"

    @extend_schema(request=RejectInputSerializer, responses=OfferSerializer)
    def post(self, request, offer_id: str):
        serializer = RejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = offer_reject(actor=request.user, offer_id=offer_id, reason=serializer.validated_data["reason"])
        return Response(OfferSerializer(offer_json(offer)).data)


class ConversationTransferApi(APIView):
    """Hand the conversation to a queue or a named agent, with a note for them."""

    scope_resource = "conversations"

    @extend_schema(request=TransferInputSerializer, responses=WorkItemSerializer)
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        to_queue = to_agent = None
        if data["to_queue"]:
            to_queue = Queue.objects.filter(name=data["to_queue"]).first()
            if to_queue is None:
                raise NotFound(f"No queue {data['to_queue']!r}.")
        else:
            to_agent = transfer_target_agent(reference=data["to_agent"])
            if to_agent is None:
                raise NotFound(f"No agent with id {data['to_agent']}.")
        item = conversation_transfer(
            actor=request.user, conversation=conversation, to_queue=to_queue, to_agent=to_agent, note=data["note"]
        )
        return Response(WorkItemSerializer(item).data)


class ConversationWrapUpApi(APIView):
    """End (if still open) and wrap up the conversation; it is recorded in records with the wrap-up."""

    scope_resource = "conversations"

    @extend_schema(request=WrapUpInputSerializer, responses={200: WorkItemSerializer, 204: None})
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = WrapUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation_wrap_up(actor=request.user, conversation=conversation, **serializer.validated_data)
        # The wrap-up has committed: the answer reports it, even for a conversation that never
        # reached an agent's queue and so has no work item to show (204).
        item = WorkItem.objects.select_related("queue").filter(conversation=conversation).order_by("-pk").first()
        if item is None:
            return Response(status=204)
        return Response(WorkItemSerializer(item).data)


class QueueStatsApi(APIView):
    """Live queue statistics for supervisors: waiting work, oldest wait, free agents, service level (24 h)."""

    scope_resource = "conversations"

    @extend_schema(responses=QueueStatsSerializer(many=True))
    def get(self, request):
        if role_of(request.user) not in (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION):
            raise PermissionDenied("Queue statistics are for supervisors.")
        return Response(QueueStatsSerializer(queue_stats(), many=True).data)


class ReasonCodeListApi(APIView):
    """The reasons an agent may give for being away."""

    scope_resource = "conversations"

    @extend_schema(responses=CodeSerializer(many=True))
    def get(self, request):
        codes = ReasonCode.objects.filter(is_active=True, system=False).values("code", "label")
        return Response(CodeSerializer(codes, many=True).data)


class WrapUpCodeListApi(APIView):
    """The wrap-up codes an agent may choose from."""

    scope_resource = "conversations"

    @extend_schema(responses=CodeSerializer(many=True))
    def get(self, request):
        return Response(
            CodeSerializer(WrapUpCode.objects.filter(is_active=True).values("code", "label"), many=True).data
        )
