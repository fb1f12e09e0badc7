"""How conversations and their messages travel over the REST API."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cea.common.serializers import BriefUserSerializer, CharField, ModelSerializer
from engagement.conversations.models import Attachment, Conversation, Message

MESSAGES_PAGE_MAX = 500


class ConversationSerializer(ModelSerializer):
    customer_name = CharField(source="customer.full_name", read_only=True, allow_null=True, default=None)
    team_name = CharField(source="team.name", read_only=True, allow_null=True, default=None)
    agent = BriefUserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        # ``visitor`` (the web chat visitor's token) stays out: it would let a reader speak as the visitor.
        fields = [
            "id",
            "channel",
            "direction",
            "external_id",
            "status",
            "customer",
            "customer_name",
            "contact_kind",
            "contact_value",
            "verification_level",
            "verified_at",
            "queue",
            "team",
            "team_name",
            "agent",
            "subject",
            "intent",
            "contained",
            "created_at",
            "escalated_at",
            "answered_at",
            "ended_at",
            "interaction",
        ]
        read_only_fields = fields


class AttachmentSerializer(ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Where to download it (permission-checked)")

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "sha256", "url"]
        read_only_fields = fields

    @extend_schema_field(CharField())
    def get_url(self, attachment: Attachment) -> str:
        # Listed with its message (a draft has none and is never listed here).
        conversation_id = attachment.message.conversation_id if attachment.message else attachment.conversation_id
        return reverse(
            "engagement-api:conversation-attachment",
            kwargs={"conversation_id": conversation_id, "attachment_id": attachment.pk},
        )


class MessageSerializer(ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "channel",
            "external_id",
            "direction",
            "author_kind",
            "author",
            "author_name",
            "body",
            "payload",
            "internal",
            "sent_at",
            "created_at",
            "attachments",
            "sentiment",
            "sentiment_status",
            "sentiment_language",
            "sentiment_note",
        ]
        read_only_fields = fields


class MessagesAfterQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, required=False, default=0, help_text="The id of the last message the client has"
    )
    limit = serializers.IntegerField(min_value=1, max_value=MESSAGES_PAGE_MAX, required=False, default=100)


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    has_more = serializers.BooleanField(help_text="Ask again with after=<id of the last result> for the rest")


class ReplyInputSerializer(serializers.Serializer):
    body = CharField(
        max_length=10_000, required=False, allow_blank=True, default="", help_text="May be blank with attachments"
    )
    attachments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=20,
        required=False,
        default=list,
        help_text="Ids of your draft attachments of this conversation (POST conversations/<id>/attachments/)",
    )
    client_message_id = CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="The client's id of this reply: a retried request with the same id sends nothing twice",
    )


class EndInputSerializer(serializers.Serializer):
    wrap_up_code = CharField(max_length=50, required=False, allow_blank=True, default="")
    disposition = CharField(max_length=50, required=False, allow_blank=True, default="")
    notes = CharField(max_length=5000, required=False, allow_blank=True, default="")


class DraftUploadSerializer(serializers.Serializer):
    # An empty file reaches the files' check, which says so (``empty_file``).
    file = serializers.FileField(
        allow_empty_file=True, help_text="An image (PNG, JPEG, GIF, WebP), a PDF or a plain text file"
    )


class DraftAttachmentSerializer(ModelSerializer):
    """A file uploaded for a reply, not sent yet: its id goes in the reply's ``attachments``."""

    class Meta:
        model = Attachment
        fields = ["id", "conversation", "filename", "content_type", "size", "sha256", "created_at"]
        read_only_fields = fields
