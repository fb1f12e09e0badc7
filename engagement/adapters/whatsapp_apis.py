"""WhatsApp's HTTP faces (engagement/adapters/whatsapp.py): Meta's webhook, the template API and the desk's control.

- ``WhatsAppWebhookApi``: Meta's subscription handshake (GET) and events (POST, checked against
  ``X-Hub-Signature-256`` before the body is parsed); no user.
- ``WhatsAppTemplatesApi``: a conversation's 24-hour window and its source's approved templates
  (GET), and sending one (POST); fetched through ``engagement.access`` as replies are (an unknown
  conversation 404, another team's 403).
- ``whatsapp_template_control``: the desk's template picker under a WhatsApp conversation's reply
  box (GET, htmx), which sends the chosen template (POST) and answers with the message as the
  desk shows it.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField, WholeNumberField, validated
from engagement.access import access_conversation, require_desk_user
from engagement.adapters.meta_apis import meta_subscription_get
from engagement.adapters.models import Provider
from engagement.adapters.provider_apis import REFUSALS, ProviderWebhookView
from engagement.adapters.webhooks_providers import provider_source
from engagement.adapters.whatsapp import (
    whatsapp_source_verify,
    whatsapp_template_send,
    whatsapp_webhook_receive,
    whatsapp_window_state,
)
from engagement.conversations.serializers import MessageSerializer

MAX_PARAMS = 20


class WhatsAppWebhookApi(ProviderWebhookView):
    """Meta's webhook for a WhatsApp source: the subscription handshake and every event."""

    parser_classes: list = []  # the raw body is checked before anything reads it

    get = meta_subscription_get(provider=Provider.WHATSAPP, operation_id="engagement_whatsapp_webhook_verify")

    @extend_schema(
        operation_id="engagement_whatsapp_webhook_receive",
        parameters=[
            OpenApiParameter(
                "X-Hub-Signature-256",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>",
            )
        ],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: OpenApiResponse(description="Kept (messages, duplicates and receipts counted)"),
            503: OpenApiResponse(description="A media could not be fetched from Meta: deliver it again"),
            **REFUSALS,
        },
    )
    def post(self, request, source_name: str):
        source = provider_source(name=source_name, provider=Provider.WHATSAPP)
        body = request.body
        whatsapp_source_verify(source=source, body=body, signature=request.headers.get("X-Hub-Signature-256", ""))
        try:
            document = json.loads(body)
        except ValueError:
            raise ValidationFailed("The body is not JSON.", fields={"body": "Not JSON."}) from None
        received = whatsapp_webhook_receive(source=source, document=document)
        return Response(received.__dict__)


class TemplateSendSerializer(serializers.Serializer):
    template = WholeNumberField(min_value=1, help_text="The MessageTemplate's id (one of the source's)")
    params = serializers.ListField(
        child=CharField(max_length=1024, allow_blank=True),
        max_length=MAX_PARAMS,
        required=False,
        default=list,
        help_text="The values of {{1}}, {{2}} …, in order",
    )
    client_message_id = CharField(max_length=120, required=False, allow_blank=True, default="")


def _window_out(state: dict | None) -> dict:
    if state is None:
        return {"whatsapp": False}
    window = state["window"]
    return {
        "whatsapp": True,
        "source": state["source"].name,
        "window_open": window.open,
        "last_inbound": window.last_inbound,
        "closes_at": window.closes_at,
        "templates": [
            {field: getattr(t, field) for field in ("name", "language", "category", "body", "params")} | {"id": t.pk}
            for t in (choice["template"] for choice in state["templates"])
        ],
    }


class WhatsAppTemplatesApi(APIView):
    """A WhatsApp conversation's 24-hour window and approved templates; sending one of them."""

    scope_resource = "conversations"

    @extend_schema(operation_id="engagement_whatsapp_templates_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        return Response(_window_out(whatsapp_window_state(conversation)))

    @extend_schema(
        operation_id="engagement_whatsapp_template_send",
        request=TemplateSendSerializer,
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, description="A retried request: nothing sent again"),
            400: OpenApiResponse(description="No such template of the source, or the wrong values (fields)"),
            409: OpenApiResponse(description="Not a WhatsApp conversation, or the template is not approved"),
        },
    )
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        data = validated(TemplateSendSerializer, request.data)
        message, created = whatsapp_template_send(
            actor=request.user,
            conversation=conversation,
            template_id=data["template"],
            params=data["params"],
            client_message_id=data["client_message_id"],
        )
        return Response(
            MessageSerializer(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


@login_required
@require_http_methods(["GET", "POST"])
def whatsapp_template_control(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The desk's WhatsApp window note and template picker (GET), or the chosen template sent (POST)."""
    require_desk_user(request.user)
    conversation = access_conversation(request.user, conversation_id)
    if request.method == "POST":
        message, _ = whatsapp_template_send(
            actor=request.user,
            conversation=conversation,
            template_id=request.POST.get("template", ""),
            params=request.POST.getlist("params"),
            client_message_id=request.POST.get("client_message_id", "")[:120],
        )
        return render(request, "engagement/desktop/partials/message.html", {"message": message})
    state = whatsapp_window_state(conversation)
    return render(
        request, "engagement/desktop/partials/_whatsapp.html", {"conversation": conversation, "whatsapp": state}
    )
