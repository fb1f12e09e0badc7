"""REST API of the desk's conversation search: ``GET /api/v1/engagement/conversations/search/``.

Within the conversations the caller may see (``engagement.desktop.search``); paginated like every
list. API tokens need ``conversations:read``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from cea.common.api import ROW_ID_MAX, PageNumberPagination
from cea.common.channels import Channel
from cea.common.serializers import CharField
from engagement.access import conversations_visible_to
from engagement.conversations.serializers import ConversationSerializer
from engagement.desktop.search import MAX_TEXT, ConversationQuery, conversation_search


class ConversationSearchQuerySerializer(serializers.Serializer):
    q = CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_TEXT,
        help_text="Text in a message, the subject or the contact address",
    )
    customer = CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_TEXT,
        help_text="A customer's id, name, email, phone or identifier",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_blank=True, help_text="Blank: every channel"
    )
    agent = serializers.IntegerField(
        required=False, min_value=1, max_value=ROW_ID_MAX, help_text="The handling agent's user id"
    )
    date_from = serializers.DateField(required=False, help_text="Started on or after this day")
    date_to = serializers.DateField(required=False, help_text="Started on or before this day (not before date_from)")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": "The end date is before the start date."})
        return attrs


class ConversationFoundSerializer(ConversationSerializer):
    excerpt = CharField(
        read_only=True, allow_null=True, default=None, help_text="Where the text matched a message (with q)"
    )

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "excerpt"]


class ConversationSearchApi(APIView):
    scope_resource = "conversations"
    pagination_class = PageNumberPagination

    @extend_schema(parameters=[ConversationSearchQuerySerializer], responses=ConversationFoundSerializer(many=True))
    def get(self, request):
        conversations_visible_to(request.user)  # signed in, before the parameters are read
        params = ConversationSearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = ConversationQuery(
            text=params.validated_data["q"],
            customer=params.validated_data["customer"],
            channel=params.validated_data.get("channel", ""),
            agent=params.validated_data.get("agent"),
            date_from=params.validated_data.get("date_from"),
            date_to=params.validated_data.get("date_to"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(conversation_search(user=request.user, query=query), request, view=self)
        return paginator.get_paginated_response(ConversationFoundSerializer(page, many=True).data)
