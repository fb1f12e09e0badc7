"""Where replies on the mobile app and IoT channels are pushed: the devices their back-ends register.

An app's or a device platform's back-end (an integration client, as it sends messages in) registers
a device's push address under the app's push source (a ``WebhookSource`` of provider ``fcm`` or
``web_push`` on the channel ``mobile_app`` or ``iot``):

- a mobile app session (``session_id``, as its messages name it): the client's own sessions only,
  since the session's conversations are namespaced by the client (``<client>:<session>:<n>``);
- an IoT device (``device_id``): only by a client that has sent that device's events (its fault
  messages record the client), so no client can push to, or acknowledge, another's device.

The address is an FCM registration token, or a Web Push subscription (its ``endpoint`` and keys
``p256dh`` and ``auth``, as the browser's ``PushSubscription.toJSON()`` gives them). Registering the
same session or device again replaces it; a push service that says the address is gone (FCM's
``UNREGISTERED``, a Web Push 404/410) drops it (``push_device_drop``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction

from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, ValidationFailed
from engagement.adapters.models import Provider, PushDevice, WebhookSource
from engagement.conversations.models import Conversation, Message

logger = logging.getLogger(__name__)

PUSH_PROVIDERS = (Provider.FCM, Provider.WEB_PUSH)
PUSH_CHANNELS = (Channel.MOBILE_APP, Channel.IOT)
# An FCM registration token: URL-safe characters, with ':' (no spaces, no control characters).
FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:\-.]{20,4096}$")
VAPID_SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://[^\s/]+.*)$")


def urlsafe_b64decode(value: str) -> bytes:
    """Base64url without padding (RFC 7515), as Web Push keys are written; ``ValueError`` if it is not."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


# --- Ownership ------------------------------------------------------------------------------------


def client_sent_device_events(*, client, device_id: str) -> bool:
    """Whether ``client`` has sent events of the IoT device ``device_id`` (``iot.device_fault_ingest``)."""
    return Message.objects.filter(channel=Channel.IOT, payload__device_id=device_id, payload__client=client.pk).exists()


def client_owns_conversation(*, client, conversation: Conversation) -> bool:
    """Whether ``conversation`` is one of ``client``'s: a mobile app session of its, or an IoT
    conversation of a device whose events it sent."""
    if conversation.channel == Channel.MOBILE_APP:
        return conversation.external_id.startswith(f"{client.pk}:")
    if conversation.channel == Channel.IOT:
        return conversation.messages.filter(payload__client=client.pk).exists()
    return False


def push_device_for(conversation: Conversation) -> PushDevice | None:
    """The device registered for the conversation's app session or IoT device, if any (the newest
    registration of the device, for IoT)."""
    thread_key = conversation.external_id.rpartition(":")[0]
    devices = PushDevice.objects.select_related("source").filter(channel=conversation.channel)
    if conversation.channel == Channel.MOBILE_APP:
        client_id, _, session_id = thread_key.partition(":")
        if not client_id.isdigit() or not session_id:
            return None
        return devices.filter(client_id=int(client_id), address=session_id).first()
    if conversation.channel == Channel.IOT:
        return devices.filter(address=conversation.contact_value or thread_key).order_by("-updated_at").first()
    return None


# --- Registering ----------------------------------------------------------------------------------


def _push_source(name: str) -> WebhookSource:
    source = WebhookSource.objects.filter(
        name=name, provider__in=PUSH_PROVIDERS, channel__in=PUSH_CHANNELS, is_active=True
    ).first()
    if source is None:
        raise ValidationFailed(
            f"No active push source named {name!r}.",
            fields={"source": "The name of an active FCM or Web Push source of the mobile app or IoT channel."},
        )
    if source.provider == Provider.FCM and not source.sender_id:
        raise Conflict(f"The source {name!r} has no sender id (the FCM project id).", code="source_unconfigured")
    if source.provider == Provider.WEB_PUSH and not VAPID_SUBJECT.match(source.sender_id):
        raise Conflict(
            f"The source {name!r} has no VAPID subject as its sender id (mailto:… or https://…).",
            code="source_unconfigured",
        )
    return source


def _address(*, client, source: WebhookSource, session_id: str, device_id: str) -> str:
    if source.channel == Channel.MOBILE_APP:
        if not session_id or device_id:
            raise ValidationFailed(
                f"The source {source.name!r} pushes to a mobile app: name the session.",
                fields={"session_id": "Required for a mobile app source (and no device_id)."},
            )
        return session_id
    if not device_id or session_id:
        raise ValidationFailed(
            f"The source {source.name!r} pushes to IoT devices: name the device.",
            fields={"device_id": "Required for an IoT source (and no session_id)."},
        )
    if not client_sent_device_events(client=client, device_id=device_id):
        raise NotFound(
            f"You have sent no events of the device {device_id!r}; send its events first.", code="unknown_device"
        )
    return device_id


def _endpoint_check(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if settings.CEA_WEB_PUSH_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValidationFailed(
            "The subscription's endpoint is not an https URL.",
            fields={"subscription.endpoint": "The push service's https URL, from the browser's PushSubscription."},
        )


def _subscription_keys_check(p256dh: str, auth: str) -> None:
    errors: dict[str, str] = {}
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), urlsafe_b64decode(p256dh))
    except ValueError:
        errors["subscription.keys.p256dh"] = "The subscription's P-256 public key, base64url (65 bytes)."
    try:
        if len(urlsafe_b64decode(auth)) != 16:
            raise ValueError("not 16 bytes")
    except ValueError:
        errors["subscription.keys.auth"] = "The subscription's auth secret, base64url (16 bytes)."
    if errors:
        raise ValidationFailed("The subscription's keys are malformed.", fields=errors)


def _push_address(source: WebhookSource, *, token: str, subscription: dict | None) -> dict[str, str]:
    """The device's fields for the source's provider: a token for FCM, a subscription for Web Push."""
    if source.provider == Provider.FCM:
        if subscription or not FCM_TOKEN.match(token):
            raise ValidationFailed(
                f"The source {source.name!r} is FCM's: send the app's registration token.",
                fields={"token": "The FCM registration token (and no subscription)."},
            )
        return {"token": token, "endpoint": "", "p256dh": "", "auth": ""}
    if token or not subscription:
        raise ValidationFailed(
            f"The source {source.name!r} is Web Push: send the subscription.",
            fields={"subscription": "The PushSubscription: endpoint and keys p256dh, auth (and no token)."},
        )
    _endpoint_check(subscription["endpoint"])
    _subscription_keys_check(subscription["p256dh"], subscription["auth"])
    return {"token": "", **{key: subscription[key] for key in ("endpoint", "p256dh", "auth")}}


@transaction.atomic
def push_device_register(
    *,
    client,
    source: str,
    session_id: str = "",
    device_id: str = "",
    token: str = "",
    subscription: dict | None = None,
) -> tuple[PushDevice, bool]:
    """Register (or replace) the push address of ``client``'s app session or IoT device under the push
    source named ``source``; ``(device, created)``.

    ``subscription`` is ``{"endpoint", "p256dh", "auth"}``. Raises ``ValidationFailed`` (400, with the
    field) for an unknown source or an address that is not the source's kind, ``Conflict``
    (``source_unconfigured``) for a source without its sender id, and ``NotFound``
    (``unknown_device``) for a device whose events the client has not sent.
    """
    push_source = _push_source(source)
    address = _address(client=client, source=push_source, session_id=session_id, device_id=device_id)
    fields = _push_address(push_source, token=token, subscription=subscription)
    device, created = PushDevice.objects.update_or_create(
        client=client, channel=push_source.channel, address=address, defaults={"source": push_source, **fields}
    )
    return device, created


@transaction.atomic
def push_device_unregister(*, client, device_id: int) -> None:
    """Forget ``client``'s device ``device_id``: nothing more is pushed to it. ``NotFound`` when the
    client has no such device (another client's is as unknown as one that never was)."""
    deleted, _ = PushDevice.objects.filter(pk=device_id, client=client).delete()
    if not deleted:
        raise NotFound(f"You have no push device {device_id}.", code="unknown_device")


def push_device_drop(device: PushDevice, *, reason: str) -> None:
    """Forget a device its push service says is gone (the app was uninstalled, the subscription ended)."""
    logger.info("Push device %s (%s %s) dropped: %s", device.pk, device.channel, device.source.name, reason)
    device.delete()
