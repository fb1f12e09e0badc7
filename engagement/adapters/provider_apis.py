"""Providers' own webhooks: Twilio's and Vonage's inbound SMS and delivery receipts.

Each is authenticated by the provider's signature (``twilio.py``, ``vonage.py``), checked before
the parameters are used; no user. Inbound SMS go through the same ingest as CEA's signed webhooks
(``webhooks.sms_ingest``); receipts through the outbox (``outbox.receipt_record``), only for the
messages the source itself sent.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.channels import Channel
from cea.common.errors import ApplicationError, ValidationFailed
from cea.common.serializers import CharField, validated
from engagement.adapters.outbox import receipt_record
from engagement.adapters.serializers import ID_MAX, TEXT_MAX, _phone_or_as_given
from engagement.adapters.twilio import twilio_error, twilio_inbound_media, twilio_source_verify, twilio_status
from engagement.adapters.vonage import vonage_error, vonage_source_verify, vonage_status
from engagement.adapters.webhooks import sms_ingest

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REFUSALS = {
    400: OpenApiResponse(description="A parameter is missing or malformed (field errors)"),
    401: OpenApiResponse(description="Missing, expired or wrong provider signature"),
    404: OpenApiResponse(description="No active source of this name and provider, or no such message of it"),
    409: OpenApiResponse(description="The source's credential for checking signatures is not configured"),
}


def _fields(name: str, fields: dict[str, serializers.Field]) -> type[serializers.Serializer]:
    """A serializer whose field names are the provider's (``err-code``, ``client-ref`` …)."""
    return type(name, (serializers.Serializer,), dict(fields))


TwilioSmsSerializer = _fields(
    "TwilioSmsWebhook",
    {
        "MessageSid": CharField(max_length=ID_MAX),
        "From": CharField(max_length=40),
        "To": CharField(max_length=40),
        "Body": CharField(max_length=TEXT_MAX, allow_blank=True),
        "AccountSid": CharField(max_length=64, required=False),
        "NumMedia": CharField(max_length=3, required=False),
    },
)
TwilioStatusSerializer = _fields(
    "TwilioStatusWebhook",
    {
        "MessageSid": CharField(max_length=ID_MAX),
        "MessageStatus": CharField(max_length=20),
        "ErrorCode": CharField(max_length=20, required=False, allow_blank=True),
        "AccountSid": CharField(max_length=64, required=False),
    },
)
VonageInboundSerializer = _fields(
    "VonageInboundSms",
    {
        "msisdn": CharField(max_length=40),
        "to": CharField(max_length=40),
        "messageId": CharField(max_length=ID_MAX),
        "text": CharField(max_length=TEXT_MAX, allow_blank=True),
        "type": CharField(max_length=20, required=False),
        "message-timestamp": CharField(max_length=40, required=False),
        "timestamp": CharField(max_length=12),
        "sig": CharField(max_length=200),
    },
)
VonageReceiptSerializer = _fields(
    "VonageDeliveryReceipt",
    {
        "messageId": CharField(max_length=ID_MAX),
        "status": CharField(max_length=20),
        "err-code": CharField(max_length=20, required=False, allow_blank=True),
        "client-ref": CharField(max_length=40, required=False, allow_blank=True),
        "msisdn": CharField(max_length=40, required=False),
        "to": CharField(max_length=40, required=False),
        "timestamp": CharField(max_length=12),
        "sig": CharField(max_length=200),
    },
)


def _message_ref(raw: str, field: str) -> int | None:
    """CEA's message id from a callback's query or client reference; ``None`` when not given."""
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValidationFailed(f"{field} is CEA's message id.", fields={field: "A message id."})
    return int(raw)


class ProviderWebhookView(APIView):
    """Signed by the provider, not by a user; refusals logged without the body (PII) or signature."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, ApplicationError | exceptions.APIException):
            error = response.data.get("error", {}) if isinstance(response.data, dict) else {}
            logger.warning(
                "Provider webhook refused: %s source=%s status=%s code=%s",
                type(self).__name__,
                self.kwargs.get("source_name"),
                response.status_code,
                error.get("code"),
            )
        return response


class TwilioWebhookView(ProviderWebhookView):
    parser_classes = [FormParser]

    def verified(self, request, source_name: str):
        params = [(name, value) for name, values in request.POST.lists() for value in values]
        source = twilio_source_verify(
            name=source_name,
            # Messages: the URL Twilio was given is CEA_PUBLIC_URL's (the StatusCallback CEA sends).
            url=f"{settings.CEA_PUBLIC_URL}{request.get_full_path()}",
            params=params,
            signature=request.headers.get("X-Twilio-Signature", ""),
            channel=Channel.SMS,  # a Twilio voice source's name takes no messages
        )
        return source, request.POST.dict()


TWILIO_SIGNATURE = OpenApiParameter(
    "X-Twilio-Signature",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Base64 HMAC-SHA1 of the URL and the sorted form parameters, keyed with the auth token",
)


class TwilioSmsApi(TwilioWebhookView):
    """An inbound SMS from Twilio (the number's "A message comes in" webhook); an MMS's media are
    fetched from Twilio and kept as the message's attachments (``twilio.twilio_inbound_media``)."""

    @extend_schema(
        operation_id="engagement_twilio_sms_receive",
        parameters=[TWILIO_SIGNATURE],
        request={"application/x-www-form-urlencoded": TwilioSmsSerializer},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="An empty TwiML response"),
            **REFUSALS,
        },
    )
    def post(self, request, source_name: str):
        source, params = self.verified(request, source_name)
        data = validated(TwilioSmsSerializer, params)
        files, refused = twilio_inbound_media(source=source, params=params)
        sms_ingest(
            source=source,
            message_id=data["MessageSid"],
            sender=_phone_or_as_given(data["From"]),
            to=_phone_or_as_given(data["To"]),
            text=data["Body"],
            sent_at=timezone.now(),
            files=files,
            media_refused=refused,
        )
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


class TwilioStatusApi(TwilioWebhookView):
    """A status callback for a message CEA sent through Twilio (the ``StatusCallback`` it gave)."""

    @extend_schema(
        operation_id="engagement_twilio_status_receive",
        parameters=[
            TWILIO_SIGNATURE,
            OpenApiParameter("message", OpenApiTypes.INT, OpenApiParameter.QUERY, description="CEA's message id"),
        ],
        request={"application/x-www-form-urlencoded": TwilioStatusSerializer},
        responses={204: OpenApiResponse(description="The receipt was recorded"), **REFUSALS},
    )
    def post(self, request, source_name: str):
        source, params = self.verified(request, source_name)
        data = validated(TwilioStatusSerializer, params)
        code = data.get("ErrorCode", "")
        receipt_record(
            source=source,
            status=twilio_status(data["MessageStatus"]),
            provider_message_id=data["MessageSid"],
            message_id=_message_ref(request.GET.get("message", ""), "message"),
            error_code=code,
            error_reason=twilio_error(code),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VonageWebhookView(ProviderWebhookView):
    """Vonage's webhooks as POST (form-encoded) or POST-JSON, as the account is configured (not GET)."""

    parser_classes = [JSONParser, FormParser]

    def verified(self, request, source_name: str):
        # Read leniently: the source is found and the signature checked before anything is refused
        # for its shape (a value that is not a string is signed as its JSON, so it cannot match).
        data = request.data if hasattr(request.data, "items") else {}
        params = {
            str(name): value if isinstance(value, str) else json.dumps(value)
            for name, value in (data.dict() if hasattr(data, "dict") else data).items()
        }
        return vonage_source_verify(name=source_name, params=params), params


def _vonage_time(raw: str) -> datetime:
    """Vonage's ``message-timestamp`` (``2020-01-01 12:00:00``, UTC); now when absent or malformed."""
    try:
        return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return timezone.now()


VONAGE_SCHEMA = {"application/json": None, "application/x-www-form-urlencoded": None}


class VonageInboundApi(VonageWebhookView):
    """An inbound SMS from Vonage (the number's inbound webhook)."""

    @extend_schema(
        operation_id="engagement_vonage_inbound_receive",
        request={media: VonageInboundSerializer for media in VONAGE_SCHEMA},
        responses={204: OpenApiResponse(description="The message was kept (or was a duplicate)"), **REFUSALS},
    )
    def post(self, request, source_name: str):
        source, params = self.verified(request, source_name)
        data = validated(VonageInboundSerializer, params)
        msisdn = data["msisdn"]
        sms_ingest(
            source=source,
            message_id=data["messageId"],
            sender=_phone_or_as_given("+" + msisdn if msisdn.isdigit() else msisdn),
            to=_phone_or_as_given("+" + data["to"] if data["to"].isdigit() else data["to"]),
            text=data["text"],
            sent_at=_vonage_time(data.get("message-timestamp", "")),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VonageReceiptApi(VonageWebhookView):
    """A delivery receipt (DLR) for a message CEA sent through Vonage."""

    @extend_schema(
        operation_id="engagement_vonage_receipt_receive",
        request={media: VonageReceiptSerializer for media in VONAGE_SCHEMA},
        responses={204: OpenApiResponse(description="The receipt was recorded"), **REFUSALS},
    )
    def post(self, request, source_name: str):
        source, params = self.verified(request, source_name)
        data = validated(VonageReceiptSerializer, params)
        code = data.get("err-code", "")
        receipt_record(
            source=source,
            status=vonage_status(data["status"]),
            # A long text's segments each have their id and their receipt, all with the message's
            # client-ref: the receipt is the message's by its client-ref (the first final status wins).
            provider_message_id="" if data.get("client-ref") else data["messageId"],
            message_id=_message_ref(data.get("client-ref", ""), "client-ref"),
            error_code=code if code != "0" else "",
            error_reason=vonage_error(code),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
