"""REST endpoints of the channel adapters: each validates its payload, calls its adapter, says what happened.

A delivery that created a message answers 201; a duplicate delivery answers 200 with the same
ids, so a client may retry safely.

- Email, mobile app, web form, IoT: sent in by channel back-ends (integration clients with the
  ``conversations:write`` scope, or administrators).
- Branch check-in: also by the staff at a branch (any signed-in user).
- SMS, social DM, voice: signed webhooks of a ``WebhookSource``; no user, the signature is the
  authentication.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.accounts.authentication import TokenScopePermission
from cea.common.channels import Channel
from cea.common.errors import ApplicationError, NotFound, ValidationFailed
from cea.common.roles import sees_everything
from engagement.adapters.app import app_message_ingest, web_form_ingest
from engagement.adapters.branch import branch_check_in
from engagement.adapters.email import MAX_EMAIL_BYTES, email_ingest
from engagement.adapters.ingest import Ingested
from engagement.adapters.iot import device_fault_ingest
from engagement.adapters.serializers import (
    AppMessageSerializer,
    BranchCheckInSerializer,
    CallEventSerializer,
    ClaimedSerializer,
    DeviceEventSerializer,
    InboundEmailSerializer,
    IngestedSerializer,
    SmsWebhookSerializer,
    SocialWebhookSerializer,
    WebFormSubmissionSerializer,
)
from engagement.adapters.voice import call_event_ingest
from engagement.adapters.webhooks import sms_ingest, social_ingest, webhook_source_verify
from engagement.hooks import Claimed

logger = logging.getLogger(__name__)

INGEST_RESPONSES = {
    201: OpenApiResponse(IngestedSerializer, description="The message was kept"),
    200: OpenApiResponse(IngestedSerializer, description="A duplicate delivery: nothing changed"),
}
WEBHOOK_RESPONSES = {
    **INGEST_RESPONSES,
    200: OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="WebhookUnchangedOrClaimed",
            serializers=[IngestedSerializer, ClaimedSerializer],
            resource_type_field_name=None,
        ),
        description="A duplicate delivery (nothing changed), or an SMS claimed by an interceptor (a survey answer)",
    ),
}


def _ingested(result: Ingested | Claimed) -> Response:
    if isinstance(result, Claimed):  # an SMS that answered a survey: no conversation
        return Response(ClaimedSerializer(result).data, status=status.HTTP_200_OK)
    return Response(
        IngestedSerializer(result).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    )


def _ingest(
    payload, serializer_class: type[serializers.Serializer], ingest: Callable[..., Ingested | Claimed], **given
) -> Response:
    """Validate ``payload`` with ``serializer_class``, call the adapter's ``ingest`` with it (and
    ``given``), and say what happened."""
    serializer = serializer_class(data=payload)
    serializer.is_valid(raise_exception=True)
    return _ingested(ingest(**given, **serializer.validated_data))


class ChannelClientPermission(permissions.BasePermission):
    """Channel traffic comes from the channels' back-ends (integration clients) or administrators."""

    message = "Only integration clients and administrators may send channel traffic in."

    def has_permission(self, request, view) -> bool:
        return sees_everything(request.user)


CHANNEL_CLIENTS = [permissions.IsAuthenticated, TokenScopePermission, ChannelClientPermission]


class RawEmailParser(BaseParser):
    """``message/rfc822``: the request body is the email."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        raw = stream.read(MAX_EMAIL_BYTES + 1) if stream is not None else b""
        return {"raw": raw}


class EmailInboundApi(APIView):
    """An inbound email from the mail gateway, threaded onto its conversation."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS
    parser_classes = [RawEmailParser, JSONParser]

    @extend_schema(
        operation_id="engagement_email_inbound",
        request={"message/rfc822": OpenApiTypes.BINARY, "application/json": InboundEmailSerializer},
        responses=INGEST_RESPONSES,
    )
    def post(self, request):
        return _ingest(request.data, InboundEmailSerializer, email_ingest)


class AppMessageApi(APIView):
    """A customer's message from the mobile app."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS

    @extend_schema(request=AppMessageSerializer, responses=INGEST_RESPONSES)
    def post(self, request):
        return _ingest(request.data, AppMessageSerializer, app_message_ingest, client=request.user)


class WebFormSubmissionApi(APIView):
    """A contact form submitted on a website."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS

    @extend_schema(request=WebFormSubmissionSerializer, responses=INGEST_RESPONSES)
    def post(self, request):
        return _ingest(request.data, WebFormSubmissionSerializer, web_form_ingest, client=request.user)


class BranchCheckInApi(APIView):
    """A customer checks in at a branch: a conversation waits in the queue 'Branch <name>'."""

    scope_resource = "conversations"

    @extend_schema(request=BranchCheckInSerializer, responses=INGEST_RESPONSES)
    def post(self, request):
        return _ingest(request.data, BranchCheckInSerializer, branch_check_in, client=request.user)


class DeviceEventApi(APIView):
    """A device reports a fault: its customer's proactive conversation opens (404 for an unknown device)."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS

    @extend_schema(
        request=DeviceEventSerializer,
        responses={**INGEST_RESPONSES, 404: OpenApiResponse(description="No customer has this device")},
    )
    def post(self, request):
        return _ingest(request.data, DeviceEventSerializer, device_fault_ingest, client=request.user)


# --- Signed webhooks ------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookAdapter:
    serializer: type[serializers.Serializer]
    ingest: Callable[..., Ingested | Claimed]


WEBHOOK_ADAPTERS = {
    Channel.SMS: WebhookAdapter(SmsWebhookSerializer, sms_ingest),
    Channel.SOCIAL: WebhookAdapter(SocialWebhookSerializer, social_ingest),
    Channel.VOICE: WebhookAdapter(CallEventSerializer, call_event_ingest),
}


def _json_object(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("The body is not JSON.", fields={"body": "Send a JSON object."}) from None
    if not isinstance(payload, dict):
        raise ValidationFailed("The body is not a JSON object.", fields={"body": "Send a JSON object."})
    return payload


class WebhookApi(APIView):
    """An SMS, a social DM or a call event from a provider, signed with the source's secret.

    The body is checked against ``X-CEA-Signature`` (``sha256=`` HMAC-SHA256 of
    ``"<X-CEA-Timestamp>.<body>"`` with the source's secret) before it is read; the source's
    channel says which payload it sends.
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser]  # for the schema: the raw body is read, to check its signature

    @extend_schema(
        operation_id="engagement_webhook_receive",
        parameters=[
            OpenApiParameter("X-CEA-Timestamp", OpenApiTypes.INT, OpenApiParameter.HEADER, required=True),
            OpenApiParameter(
                "X-CEA-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of '<timestamp>.<raw body>' keyed with the source's secret>",
            ),
        ],
        request=PolymorphicProxySerializer(
            component_name="WebhookPayload",
            serializers=[SmsWebhookSerializer, SocialWebhookSerializer, CallEventSerializer],
            resource_type_field_name=None,
        ),
        responses={
            **WEBHOOK_RESPONSES,
            400: OpenApiResponse(description="The payload is malformed (field errors)"),
            401: OpenApiResponse(description="Missing, malformed, expired or wrong signature"),
            404: OpenApiResponse(description="No active source of this name"),
            409: OpenApiResponse(description="An event for a call that has already ended"),
        },
    )
    def post(self, request, source_name: str):
        body = request.body
        source = webhook_source_verify(
            name=source_name,
            timestamp=request.headers.get("X-CEA-Timestamp"),
            signature=request.headers.get("X-CEA-Signature"),
            body=body,
        )
        adapter = WEBHOOK_ADAPTERS.get(source.channel)
        if adapter is None:
            raise NotFound(
                f"The source {source.name!r} is for {source.get_channel_display()}, which takes no webhooks.",
                code="no_webhook_adapter",
            )
        return _ingest(_json_object(body), adapter.serializer, adapter.ingest, source=source)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, ApplicationError | exceptions.APIException):
            error = response.data.get("error", {}) if isinstance(response.data, dict) else {}
            # The source and what was wrong, never the secret, the signature or the body (PII).
            logger.warning(
                "Webhook refused: source=%s status=%s code=%s fields=%s",
                self.kwargs.get("source_name"),
                response.status_code,
                error.get("code"),
                ",".join(sorted(error.get("fields", {}))),
            )
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = 'CEA-HMAC-SHA256 realm="webhooks"'
        return response
