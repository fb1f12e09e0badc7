"""REST API of self-service: the IVR's input endpoint, knowledge search, containment."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement.access import access_ivr_call, containment_conversations_visible_to, require_ivr_driver
from engagement.conversations.models import ConversationStatus
from engagement.selfservice.selectors import containment_rate, knowledge_search
from engagement.selfservice.serializers import (
    ContainmentQuerySerializer,
    ContainmentSerializer,
    IvrInputSerializer,
    IvrReplySerializer,
    KnowledgeSearchQuerySerializer,
    KnowledgeSearchSerializer,
)
from engagement.selfservice.services import selfservice_ivr_call, selfservice_on_ivr_input

CONTAINMENT_DEFAULT_DAYS = 7


class IvrInputApi(APIView):
    """One caller input (DTMF digits or speech text) → the prompts to play next, and whether to transfer.

    The first request of a call (no input) opens the conversation and returns the greeting
    and main menu; a request without input later is a time-out (the prompt again). For the
    telephony platform (an integration client with the ``conversations:write`` scope) and admins.
    """

    scope_resource = "conversations"

    @extend_schema(request=IvrInputSerializer, responses=IvrReplySerializer)
    def post(self, request, call_id: str):
        require_ivr_driver(request.user)
        serializer = IvrInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        conversation = access_ivr_call(request.user, call_id=call_id) or selfservice_ivr_call(
            call_id=call_id, caller=data["caller"]
        )
        reply = selfservice_on_ivr_input(
            conversation=conversation, digits=data["digits"], speech=data["speech"], input_id=data["input_id"]
        )
        status = reply.conversation.status
        gather = status == ConversationStatus.SELF_SERVICE and reply.expect is not None
        return Response(
            IvrReplySerializer(
                {
                    "conversation": reply.conversation.pk,
                    "call_id": call_id,
                    "status": status,
                    "prompts": reply.prompts,
                    "gather": gather,
                    "expect": reply.expect if gather else None,
                    "transfer": status in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE),
                    "queue": reply.conversation.queue,
                    "hangup": status == ConversationStatus.ENDED,
                    "replayed": reply.replayed,
                }
            ).data
        )


class KnowledgeSearchApi(APIView):
    """Published knowledge articles matching ``q`` (PostgreSQL full-text search, best first)."""

    scope_resource = "conversations"
    throttle_scope = "lookup"

    @extend_schema(parameters=[KnowledgeSearchQuerySerializer], responses=KnowledgeSearchSerializer)
    def get(self, request):
        serializer = KnowledgeSearchQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data["q"]
        results = knowledge_search(text=query, limit=serializer.validated_data["limit"])
        return Response(KnowledgeSearchSerializer({"query": query, "count": len(results), "results": results}).data)


class ContainmentApi(APIView):
    """Self-service containment over a period, per channel and in total (supervisors: their teams)."""

    scope_resource = "conversations"

    @extend_schema(parameters=[ContainmentQuerySerializer], responses=ContainmentSerializer)
    def get(self, request):
        conversations = containment_conversations_visible_to(request.user)
        serializer = ContainmentQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        end = serializer.validated_data.get("end") or timezone.now()
        start = serializer.validated_data.get("start") or end - timedelta(days=CONTAINMENT_DEFAULT_DAYS)
        report = containment_rate(start=start, end=end, conversations=conversations)
        return Response(
            ContainmentSerializer(
                {
                    "start": report.start,
                    "end": report.end,
                    "channels": [{**vars(row), "rate": row.rate} for row in report.channels],
                    "total": {**vars(report.total), "rate": report.total.rate},
                }
            ).data
        )
