"""REST endpoints of app and IoT push: registering a device's push address, and the app's receipts.

Called by the channels' back-ends (integration clients with the ``conversations:write`` scope, or
administrators), as they send messages in (``apis.AppMessageApi``, ``apis.DeviceEventApi``); each
reaches only its own sessions, devices and conversations (``push_devices.py``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField, RegexField, validated
from engagement.adapters.apis import CHANNEL_CLIENTS
from engagement.adapters.ingest import normalised_identifier
from engagement.adapters.push import AppReceipt, push_receipt_record
from engagement.adapters.push_devices import push_device_register, push_device_unregister
from engagement.adapters.serializers import ID_MAX
from records.identities.models import IdentityKind


class SubscriptionKeysSerializer(serializers.Serializer):
    p256dh = CharField(max_length=100, help_text="The subscription's P-256 public key, base64url")
    auth = CharField(max_length=40, help_text="The subscription's auth secret, base64url")


class SubscriptionSerializer(serializers.Serializer):
    """A Web Push subscription as the browser's ``PushSubscription.toJSON()`` gives it."""

    endpoint = CharField(max_length=2048)
    keys = SubscriptionKeysSerializer()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)  # the browser's own name


class PushDeviceRegisterSerializer(serializers.Serializer):
    """A device's push address: an FCM token or a Web Push subscription, as the source's provider wants."""

    # "source" is also a DRF Field's attribute, which mypy reads this field as.
    source = CharField(max_length=60, help_text="The app's push source (provider fcm or web_push)")  # type: ignore[assignment]
    session_id = CharField(max_length=ID_MAX, required=False, default="", help_text="Mobile app: the session")
    device_id = RegexField(
        r"^\s*[A-Za-z0-9._:\-]+\s*$", max_length=100, required=False, default="", help_text="IoT: the device"
    )
    token = CharField(max_length=4096, required=False, default="", help_text="FCM: the registration token")
    subscription = SubscriptionSerializer(required=False, default=None, help_text="Web Push: the subscription")

    def validate_device_id(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalised_identifier(IdentityKind.DEVICE, value, field="device_id")
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.message) from None


class PushDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = CharField(source="source.name")  # type: ignore[assignment]
    provider = CharField(source="source.provider")
    channel = CharField()
    address = CharField(help_text="The session id (mobile app) or the device id (IoT)")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PushReceiptSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AppReceipt.ALL)
    at = serializers.DateTimeField(required=False, default=None, help_text="When it happened on the device")


class PushReceiptResultSerializer(serializers.Serializer):
    """The message's delivery as the desk shows it, after the receipt."""

    message = serializers.IntegerField(source="pk")
    delivery = CharField(source="payload.delivery")
    receipts = serializers.DictField(source="payload.receipts", child=CharField())


class PushDeviceListApi(APIView):
    """Register (or replace) the push address of an app session or an IoT device."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS

    @extend_schema(
        request=PushDeviceRegisterSerializer,
        responses={
            201: PushDeviceSerializer,
            200: OpenApiResponse(PushDeviceSerializer, description="The session's or device's address was replaced"),
            404: OpenApiResponse(description="An IoT device whose events this client has not sent"),
            409: OpenApiResponse(description="The push source has no sender id (FCM project id, VAPID subject)"),
        },
    )
    def post(self, request):
        data = validated(PushDeviceRegisterSerializer, request.data)
        subscription = data.pop("subscription")
        if subscription is not None:
            subscription = {"endpoint": subscription["endpoint"], **subscription["keys"]}
        device, created = push_device_register(client=request.user, subscription=subscription, **data)
        return Response(
            PushDeviceSerializer(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class PushDeviceApi(APIView):
    """Unregister a device: nothing more is pushed to it."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="No such device of this client")})
    def delete(self, request, device_id: int):
        push_device_unregister(client=request.user, device_id=device_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushReceiptApi(APIView):
    """The app (or the device platform) acknowledges a pushed reply: delivered, or read."""

    scope_resource = "conversations"
    permission_classes = CHANNEL_CLIENTS

    @extend_schema(
        request=PushReceiptSerializer,
        responses={
            200: PushReceiptResultSerializer,
            404: OpenApiResponse(description="No pushed message of this client's conversations"),
        },
    )
    def post(self, request, message_id: int):
        data = validated(PushReceiptSerializer, request.data)
        message = push_receipt_record(client=request.user, message_id=message_id, status=data["status"], at=data["at"])
        return Response(PushReceiptResultSerializer(message).data)
