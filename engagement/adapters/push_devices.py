"""Where replies on the mobile app and IoT channels are pushed: the devices their back-ends register.

An app's or a device platform's back-end (an integration client, as it sends messages in) registers
a device's push address under the app's push source (a ``WebhookSource`` of provider ``fcm`` or
``web_push`` on the channel ``mobile_app`` or ``iot``):

- a mobile app session (``session_id``, as its messages name it): the client's own sessions only,
  since the session's conversations are namespaced by the client (``<client>:<session>:<n>``);
- an IoT device (``device_id``): only by the client the device belongs to, the one that sent its
  first event (its fault messages record the client). An IoT conversation is threaded by the device
  id alone, so another client sending an event of the device gains nothing: it cannot register the
  device (404, as an unknown device), replies are pushed to the first client's registration only,
  and only that client may acknowledge them.

The address is an FCM registration token, or a Web Push subscription (its ``endpoint`` and keys
``p256dh`` and ``auth``, as the browser's ``PushSubscription.toJSON()`` gives them). Registering the
same session or device again replaces it; a push service that says the address is gone (FCM's
``UNREGISTERED``, a Web Push 404/410) drops it (``push_device_drop``).

A Web Push endpoint is a URL the client chooses and CEA then POSTs to, so its host must be public
(SSRF): an IP literal or a name that resolves to a loopback, private, link-local, multicast, reserved
or otherwise non-global address is refused when registered (``endpoint_problem``) and again when
each push is sent (``push.py`` connects through ``integration.webhooks.targets``, which resolves the
name and connects only to the addresses it checked). ``CEA_PUSH_ALLOW_PRIVATE_HOSTS`` (tests only: the
loopback push service) turns this off.
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
from django.db.models import Q, QuerySet

from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, ValidationFailed
from engagement.adapters.models import Provider, PushDevice, WebhookSource
from engagement.conversations.models import Conversation, Message
from integration.webhooks.targets import address_kind, resolve

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


def device_client_id(device_id: str) -> int | None:
    """The client the IoT device ``device_id`` belongs to: the one that sent its first event
    (``iot.device_fault_ingest`` keeps the sender with each fault message); ``None`` before any.

    An IoT conversation is threaded by the device id alone, so any client may send events of any
    device; only the first one may register the device for push and acknowledge its replies.
    """
    return (
        Message.objects.filter(channel=Channel.IOT, payload__device_id=device_id, payload__has_key="client")
        .order_by("pk")
        .values_list("payload__client", flat=True)
        .first()
    )


def _conversation_device(conversation: Conversation) -> str:
    """The IoT device of a conversation (its contact, else its thread key ``<device>:<n>``)."""
    return conversation.contact_value or conversation.external_id.rpartition(":")[0]


def _app_session(conversation: Conversation) -> tuple[int, str] | None:
    """The client and session of a mobile app conversation (``<client>:<session>:<n>``)."""
    client_id, _, session_id = conversation.external_id.rpartition(":")[0].partition(":")
    return (int(client_id), session_id) if client_id.isdigit() and session_id else None


def client_owns_conversation(*, client, conversation: Conversation) -> bool:
    """Whether ``conversation`` is one of ``client``'s: a mobile app session of its, or an IoT
    conversation of a device that is its (``device_client_id``)."""
    if conversation.channel == Channel.MOBILE_APP:
        return conversation.external_id.startswith(f"{client.pk}:")
    if conversation.channel == Channel.IOT:
        return device_client_id(_conversation_device(conversation)) == client.pk
    return False


def push_device_for(conversation: Conversation) -> PushDevice | None:
    """The device registered for the conversation's app session or IoT device, if any (for IoT, the
    registration of the client the device belongs to, never another client's)."""
    devices = PushDevice.objects.select_related("source").filter(channel=conversation.channel)
    if conversation.channel == Channel.MOBILE_APP:
        session = _app_session(conversation)
        return None if session is None else devices.filter(client_id=session[0], address=session[1]).first()
    if conversation.channel == Channel.IOT:
        device_id = _conversation_device(conversation)
        owner = device_client_id(device_id)
        return None if owner is None else devices.filter(client_id=owner, address=device_id).first()
    return None


def push_devices_of(conversation_ids: list[int]) -> QuerySet[PushDevice]:
    """Every push registration of these conversations' app sessions and IoT devices, whichever client
    made it (erasure deletes them: a session or device id and its token or endpoint are the customer's)."""
    wanted = Q(pk__in=[])
    conversations = Conversation.objects.filter(pk__in=conversation_ids, channel__in=PUSH_CHANNELS)
    for conversation in conversations.only("channel", "external_id", "contact_value"):
        if conversation.channel == Channel.IOT:
            wanted |= Q(channel=Channel.IOT, address=_conversation_device(conversation))
            continue
        if session := _app_session(conversation):
            wanted |= Q(channel=Channel.MOBILE_APP, client_id=session[0], address=session[1])
    return PushDevice.objects.filter(wanted)


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
    if device_client_id(device_id) != client.pk:
        # Another client's device is as unknown as one that never sent an event.
        raise NotFound(f"You have no device {device_id!r}; send its events first.", code="unknown_device")
    return device_id


def endpoint_problem(endpoint: str) -> str | None:
    """Why CEA may not push to ``endpoint``'s host: an IP literal or a name that resolves to an
    address that is not public (loopback, private, link-local, …), or a name that does not resolve;
    ``None`` when it may, or when ``CEA_PUSH_ALLOW_PRIVATE_HOSTS`` is on."""
    if settings.CEA_PUSH_ALLOW_PRIVATE_HOSTS:
        return None
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError, ValueError):
        return f"The push service's host {host!r} does not resolve."
    for address in addresses:
        if kind := address_kind(address):
            return f"The push service's host {host!r} is not a public address ({kind})."
    return None


def _endpoint_check(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if settings.CEA_WEB_PUSH_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValidationFailed(
            "The subscription's endpoint is not an https URL.",
            fields={"subscription.endpoint": "The push service's https URL, from the browser's PushSubscription."},
        )
    if problem := endpoint_problem(endpoint):
        raise ValidationFailed(
            "The subscription's endpoint is not a public push service.",
            fields={"subscription.endpoint": f"{problem} Push services are public hosts only."},
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
