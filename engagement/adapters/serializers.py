"""Input and output of the channel adapters' endpoints.

Id fields are bounded so that the external ids built from them (namespaced by source or
client, see each adapter) fit their 255-character columns.
"""

from __future__ import annotations

import base64
import binascii

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cea.common.api import no_null_characters
from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField, EmailField, RegexField, URLField
from engagement.adapters.ingest import normalised_identifier
from engagement.adapters.iot import Severity
from engagement.adapters.voice import CallEvent
from records.identities.models import IdentityKind
from records.identities.normalise import normalise_phone

ID_MAX = 120
TEXT_MAX = 10_000
# Identifiers a channel client may name a customer by (national ids are never sent in clear).
CUSTOMER_IDENTIFIER_KINDS = [(kind, label) for kind, label in IdentityKind.choices if kind != IdentityKind.NATIONAL_ID]


def _phone_or_as_given(value: str) -> str:
    """E.164 when ``value`` is a phone number; a sender id that is not one (``BANK``, ``anonymous``) as given."""
    try:
        return normalise_phone(value)
    except ValidationFailed:
        return value


def _identifier(attrs: dict, *, kind_field: str, value_field: str) -> dict:
    value = attrs.get(value_field, "")
    if value:
        try:
            attrs[value_field] = normalised_identifier(attrs[kind_field], value, field=value_field)
        except ValidationFailed as exc:
            raise serializers.ValidationError({value_field: exc.message}) from None
    return attrs


class _SenderAsFrom:
    """``from`` is a Python keyword: the field is declared as ``sender`` and sent as ``from``.

    The field names its ``source`` explicitly (``sender``, ``caller``), as the services' argument.
    """

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("sender")
        return fields


class IngestedSerializer(serializers.Serializer):
    """What an adapter did: the conversation and message, and whether this delivery created the message."""

    conversation = serializers.IntegerField(source="conversation.pk")
    conversation_status = CharField(source="conversation.status")
    message = serializers.IntegerField(source="message.pk")
    created = serializers.BooleanField(help_text="False when this was a duplicate delivery of a kept message")


class ClaimedSerializer(serializers.Serializer):
    """An inbound text taken by an interceptor (a survey's SMS answer): no conversation was opened."""

    claimed_by = CharField(source="by", help_text="Who took it, e.g. 'survey'")
    reference = CharField(help_text="The row it became, e.g. the survey's id")


# --- Email ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.BYTE)
class RawEmailField(serializers.Field):
    """The raw RFC 822 bytes: base64 in JSON, or the request body itself for ``message/rfc822``."""

    default_error_messages = {"invalid": "Not valid base64.", "blank": "An RFC 822 message is required."}

    def to_internal_value(self, data) -> bytes:
        if isinstance(data, bytes):
            raw = data
        elif isinstance(data, str):
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                self.fail("invalid")
        else:
            self.fail("invalid")
        if not raw.strip():
            self.fail("blank")
        return raw

    def to_representation(self, value) -> str:
        return base64.b64encode(value).decode()


class InboundEmailSerializer(serializers.Serializer):
    """An inbound email as JSON (or send the message itself as ``message/rfc822``)."""

    raw = RawEmailField(help_text="The whole message (headers and body) as received, base64-encoded")


# --- Signed webhooks: SMS, social DM, voice --------------------------------------------------


class SmsWebhookSerializer(_SenderAsFrom, serializers.Serializer):
    """An inbound SMS, as an SMS gateway source posts it."""

    message_id = CharField(max_length=ID_MAX, help_text="The provider's id of the message")
    sender = CharField(max_length=40, source="sender", help_text="The sender's number (E.164 preferred)")
    to = CharField(max_length=40, help_text="Our number that received it")
    text = CharField(max_length=TEXT_MAX)
    sent_at = serializers.DateTimeField()

    def validate(self, attrs: dict) -> dict:
        attrs["sender"] = _phone_or_as_given(attrs["sender"])
        attrs["to"] = _phone_or_as_given(attrs["to"])
        return attrs


class SocialWebhookSerializer(_SenderAsFrom, serializers.Serializer):
    """An inbound direct message, as a social platform source posts it."""

    message_id = CharField(max_length=ID_MAX, help_text="The platform's id of the message")
    platform = CharField(max_length=20, help_text="twitter, facebook, instagram, whatsapp …")
    handle = CharField(max_length=100, help_text="The sender's handle on the platform")
    sender = CharField(
        max_length=100,
        source="sender",
        required=False,
        allow_blank=True,
        default="",
        help_text="The platform's user id of the sender",
    )
    to = CharField(max_length=100, required=False, allow_blank=True, default="")
    text = CharField(max_length=TEXT_MAX)
    sent_at = serializers.DateTimeField()

    def validate(self, attrs: dict) -> dict:
        try:
            stored = normalised_identifier(
                IdentityKind.SOCIAL, f"{attrs['platform']}:{attrs['handle']}", field="handle"
            )
        except ValidationFailed as exc:
            raise serializers.ValidationError({"handle": exc.message}) from None
        attrs["platform"], attrs["handle"] = stored.split(":", 1)
        return attrs


class CallEventSerializer(_SenderAsFrom, serializers.Serializer):
    """A call event, as a telephony provider source posts it: ringing, answered, transferred or ended."""

    event_id = CharField(
        max_length=ID_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="The provider's id of this event; without it a redelivery is recognised by call, event and time",
    )
    call_id = CharField(max_length=100)
    event = serializers.ChoiceField(choices=CallEvent.ALL)
    sender = CharField(max_length=40, source="caller", help_text="The caller's number")
    to = CharField(max_length=40, source="dialled", help_text="The number dialled")
    timestamp = serializers.DateTimeField()
    transferred_to = CharField(max_length=100, required=False, allow_blank=True, default="")
    queue = CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="The queue a transfer moves the call to"
    )
    recording_url = URLField(max_length=500, required=False, allow_blank=True, default="")
    transcript_url = URLField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["event"] == CallEvent.TRANSFERRED and not attrs["transferred_to"]:
            raise serializers.ValidationError({"transferred_to": "A transferred event says where to."})
        attrs["caller"] = _phone_or_as_given(attrs["caller"])
        attrs["dialled"] = _phone_or_as_given(attrs["dialled"])
        return attrs


# --- REST adapters: mobile app, web form, branch, IoT ---------------------------------------


class AppMessageSerializer(serializers.Serializer):
    """A customer's message from the mobile app, sent in by the app's back-end."""

    client_message_id = CharField(max_length=ID_MAX, help_text="The app's id of the message (idempotency)")
    session_id = CharField(max_length=ID_MAX, help_text="The device or session the message comes from")
    text = CharField(max_length=TEXT_MAX)
    identifier_kind = serializers.ChoiceField(choices=CUSTOMER_IDENTIFIER_KINDS, default=IdentityKind.ACCOUNT)
    customer_identifier = CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Who is signed in to the app, if known"
    )
    sent_at = serializers.DateTimeField(required=False, default=None)

    def validate(self, attrs: dict) -> dict:
        return _identifier(attrs, kind_field="identifier_kind", value_field="customer_identifier")


class WebFormSubmissionSerializer(serializers.Serializer):
    """A contact form submitted on a website."""

    submission_id = CharField(max_length=ID_MAX, help_text="The website's id of the submission (idempotency)")
    form_id = CharField(max_length=60)
    name = CharField(max_length=200)
    email = EmailField(max_length=254)
    subject = CharField(max_length=300)
    message = CharField(max_length=TEXT_MAX)
    submitted_at = serializers.DateTimeField(required=False, default=None)

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class BranchCheckInSerializer(serializers.Serializer):
    """A customer checking in at a branch."""

    visit_id = CharField(max_length=ID_MAX, help_text="The check-in's id (idempotency)")
    branch = CharField(max_length=80, help_text="The branch's name; its queue is 'Branch <name>'")
    reason = CharField(max_length=300)
    identifier_kind = serializers.ChoiceField(choices=CUSTOMER_IDENTIFIER_KINDS, default=IdentityKind.ACCOUNT)
    customer_identifier = CharField(max_length=200, required=False, allow_blank=True, default="")
    arrived_at = serializers.DateTimeField(required=False, default=None)

    def validate(self, attrs: dict) -> dict:
        return _identifier(attrs, kind_field="identifier_kind", value_field="customer_identifier")


class DeviceEventSerializer(serializers.Serializer):
    """A fault reported by a customer's device."""

    # The pattern tells the schema what records' device identifiers are (letters, digits, . _ : -).
    device_id = RegexField(r"^\s*[A-Za-z0-9._:\-]+\s*$", max_length=100)
    event_id = CharField(max_length=ID_MAX, help_text="The device platform's id of the event (idempotency)")
    fault_code = CharField(max_length=60)
    severity = serializers.ChoiceField(choices=Severity.ALL)
    details = serializers.DictField(required=False, default=dict, validators=[no_null_characters])
    occurred_at = serializers.DateTimeField(required=False, default=None)

    def validate_device_id(self, value: str) -> str:
        try:
            return normalised_identifier(IdentityKind.DEVICE, value, field="device_id")
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.message) from None
