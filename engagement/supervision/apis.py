"""REST API of the supervisor's tools, under /api/v1/engagement/supervision/ (wallboards, integrators, scripts).

Supervisors act on their teams' conversations, agents and work, admins on all; agents and
integration clients are refused with 403 (the tools act as a person, whom the audit names). API
tokens need ``conversations:read`` (GET) or ``conversations:write``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound
from engagement.access import (
    access_supervised_agent,
    access_supervised_conversation,
    access_supervised_work,
    require_supervisor,
)
from engagement.conversations.serializers import MessageSerializer
from engagement.routing.models import Queue
from engagement.routing.presence import presence_json
from engagement.routing.serializers import PresenceSerializer, WorkItemSerializer
from engagement.supervision.selectors import live_conversations
from engagement.supervision.serializers import (
    AgentPresenceInputSerializer,
    LiveConversationSerializer,
    SayInputSerializer,
    SupervisorActionSerializer,
    WhisperInputSerializer,
    WorkMoveInputSerializer,
    WorkRequeueInputSerializer,
)
from engagement.supervision.services import (
    supervision_barge_in,
    supervision_monitor,
    supervision_presence_set,
    supervision_say,
    supervision_whisper,
    supervision_work_move,
    supervision_work_requeue,
)


class LiveConversationsApi(APIView):
    """The live conversations of the caller's teams (admins: all): state, queue, agent, wait, sentiment."""

    scope_resource = "conversations"

    @extend_schema(responses=LiveConversationSerializer(many=True))
    def get(self, request):
        require_supervisor(request.user)
        return Response(LiveConversationSerializer(live_conversations(user=request.user), many=True).data)


class MonitorApi(APIView):
    """Start monitoring the conversation silently (audited); follow its messages on ws/context/."""

    scope_resource = "conversations"

    @extend_schema(request=None, responses={201: SupervisorActionSerializer})
    def post(self, request, conversation_id: str):
        conversation = access_supervised_conversation(request.user, conversation_id)
        action = supervision_monitor(actor=request.user, conversation=conversation)
        return Response(SupervisorActionSerializer(action).data, status=status.HTTP_201_CREATED)


class WhisperApi(APIView):
    """Say something to the handling agent only: an internal message the customer never gets."""

    scope_resource = "conversations"

    @extend_schema(request=WhisperInputSerializer, responses={201: MessageSerializer})
    def post(self, request, conversation_id: str):
        conversation = access_supervised_conversation(request.user, conversation_id)
        serializer = WhisperInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = supervision_whisper(actor=request.user, conversation=conversation, **serializer.validated_data)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class BargeInApi(APIView):
    """Join the conversation as a participant; the customer is told. Joining again changes nothing."""

    scope_resource = "conversations"

    @extend_schema(request=None, responses=SupervisorActionSerializer)
    def post(self, request, conversation_id: str):
        conversation = access_supervised_conversation(request.user, conversation_id)
        action = supervision_barge_in(actor=request.user, conversation=conversation)
        return Response(SupervisorActionSerializer(action).data)


class SayApi(APIView):
    """After barging in: a message to the customer, delivered on the conversation's channel."""

    scope_resource = "conversations"

    @extend_schema(
        request=SayInputSerializer,
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, description="A retried message: nothing sent again"),
        },
    )
    def post(self, request, conversation_id: str):
        conversation = access_supervised_conversation(request.user, conversation_id)
        serializer = SayInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message, created = supervision_say(actor=request.user, conversation=conversation, **serializer.validated_data)
        return Response(
            MessageSerializer(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class AgentPresenceApi(APIView):
    """Set an agent's presence for them (``away`` needs a reason code); their desk shows who did it."""

    scope_resource = "conversations"

    @extend_schema(request=AgentPresenceInputSerializer, responses=PresenceSerializer)
    def post(self, request, agent_id: str):
        agent = access_supervised_agent(request.user, agent_id)
        serializer = AgentPresenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        profile = supervision_presence_set(
            actor=request.user, agent=agent, presence=data["presence"], reason_code=data["reason"], note=data["note"]
        )
        return Response(PresenceSerializer(presence_json(profile)).data)


class WorkMoveApi(APIView):
    """Move waiting work to another queue (one of the caller's teams' or a queue without a team)."""

    scope_resource = "conversations"

    @extend_schema(request=WorkMoveInputSerializer, responses=WorkItemSerializer)
    def post(self, request, work_item_id: str):
        item = access_supervised_work(request.user, work_item_id)
        serializer = WorkMoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        to_queue = Queue.objects.filter(name=data["to_queue"]).first()
        if to_queue is None:
            raise NotFound(f"No queue {data['to_queue']!r}.")
        moved = supervision_work_move(actor=request.user, item=item, to_queue=to_queue, note=data["note"])
        return Response(WorkItemSerializer(moved).data)


class WorkRequeueApi(APIView):
    """Put offered or assigned work back to waiting in its queue."""

    scope_resource = "conversations"

    @extend_schema(request=WorkRequeueInputSerializer, responses=WorkItemSerializer)
    def post(self, request, work_item_id: str):
        item = access_supervised_work(request.user, work_item_id)
        serializer = WorkRequeueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        waiting = supervision_work_requeue(actor=request.user, item=item, **serializer.validated_data)
        return Response(WorkItemSerializer(waiting).data)
