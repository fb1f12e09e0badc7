"""REST API for live conversations: list, read, messages after an id, reply, end, attachments.

An agent's files go with a reply in two steps: upload each (``POST conversations/<id>/attachments/``,
a draft of the conversation by the agent), then reply with their ids (``attachments``).

Every object is fetched through ``engagement.access``: an unknown conversation is 404, one of
another team 403. API tokens need ``conversations:read`` (GET) or ``conversations:write``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound
from cea.common.roles import Role, role_of
from cea.common.serializers import validated
from engagement.access import access_conversation, conversations_visible_to
from engagement.conversations.filters import ConversationFilter
from engagement.conversations.models import Attachment, Conversation
from engagement.conversations.replies import conversation_reply, reply_attachment_add
from engagement.conversations.serializers import (
    ConversationSerializer,
    DraftAttachmentSerializer,
    DraftUploadSerializer,
    EndInputSerializer,
    MessagePageSerializer,
    MessagesAfterQuerySerializer,
    MessageSerializer,
    ReplyInputSerializer,
)
from engagement.orchestration import conversation_end


def _conversation_out(conversation_id: int) -> dict:
    """The conversation as the API shows it; call after the access check."""
    conversations = Conversation.objects.select_related("customer", "team", "agent")
    return ConversationSerializer(conversations.get(pk=conversation_id)).data


class ConversationListApi(generics.ListAPIView):
    scope_resource = "conversations"
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    search_fields = ["subject", "contact_value", "external_id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Conversation.objects.none()
        return conversations_visible_to(self.request.user).select_related("customer", "team", "agent")


class ConversationDetailApi(APIView):
    scope_resource = "conversations"

    @extend_schema(responses=ConversationSerializer)
    def get(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        return Response(_conversation_out(conversation.pk))


class ConversationMessagesApi(APIView):
    """The messages after the id a client last saw, oldest first (how a reconnecting client catches up).

    Integration clients (a mobile app's back-end relays them to the customer) never get internal
    messages (a supervisor's whisper to the agent); agents and supervisors do, marked ``internal``.
    """

    scope_resource = "conversations"

    @extend_schema(parameters=[MessagesAfterQuerySerializer], responses=MessagePageSerializer)
    def get(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        query = MessagesAfterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        after = conversation.messages.filter(id__gt=query.validated_data["after"])
        if role_of(request.user) == Role.INTEGRATION:
            after = after.exclude(internal=True)
        messages = list(after.prefetch_related("attachments").order_by("id")[: limit + 1])
        page = {"results": messages[:limit], "has_more": len(messages) > limit}
        return Response(MessagePageSerializer(page).data)


class ConversationReplyApi(APIView):
    """An agent's reply, delivered on the conversation's channel (see engagement.conversations.replies)."""

    scope_resource = "conversations"

    @extend_schema(
        request=ReplyInputSerializer,
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, description="A retried reply: nothing sent again"),
        },
    )
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = ReplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message, created = conversation_reply(
            actor=request.user, conversation=conversation, **serializer.validated_data
        )
        return Response(
            MessageSerializer(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ConversationEndApi(APIView):
    """End the conversation with its wrap-up; it is recorded in records as an interaction. Ending twice is harmless."""

    scope_resource = "conversations"

    @extend_schema(request=EndInputSerializer, responses=ConversationSerializer)
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = EndInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation_end(actor=request.user, conversation=conversation, **serializer.validated_data)
        return Response(_conversation_out(conversation.pk))


class ConversationDraftAttachmentApi(APIView):
    """Upload a file to attach to a reply in the conversation (a draft until the reply sends it).

    Checked like the widget's files (``engagement.conversations.files``: size, type read from the
    content); removed by the beat if no reply sends it within a day.
    """

    scope_resource = "conversations"
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": DraftUploadSerializer},
        responses={
            201: DraftAttachmentSerializer,
            400: OpenApiResponse(description="No file, too large, a type not allowed, or a name that lies"),
            409: OpenApiResponse(
                description="The conversation has ended, or its channel carries no files (attachments_not_allowed)"
            ),
        },
    )
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        data = validated(DraftUploadSerializer, request.data)
        draft = reply_attachment_add(
            actor=request.user,
            conversation=conversation,
            filename=data["file"].name or "",
            # Never more than the limit and a byte: a larger file is refused without being read whole.
            content=data["file"].read(settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES + 1),
        )
        return Response(DraftAttachmentSerializer(draft).data, status=status.HTTP_201_CREATED)


class ConversationAttachmentApi(APIView):
    """Download a file that came with a message of the conversation."""

    scope_resource = "conversations"

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, conversation_id: str, attachment_id: int):
        conversation = access_conversation(request.user, conversation_id)
        # (A draft is no message's yet: it is not served here.)
        attachment = Attachment.objects.filter(pk=attachment_id, message__conversation=conversation).first()
        if attachment is None:
            raise NotFound(f"No attachment {attachment_id} in conversation {conversation.pk}.")
        response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)
        response["Content-Type"] = attachment.content_type or "application/octet-stream"
        return response
