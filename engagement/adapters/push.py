"""Replies on the mobile app and IoT channels, pushed to the device: FCM's HTTP v1 API and Web Push.

A reply to a conversation whose app session or device has a push address (``push_devices.py``) is
queued in the provider outbox (``outbox.py``) with the device as its ``to`` (``device:<id>``: the
address is read when it is sent, so a token refreshed meanwhile is the one used), and sent by the
adapter of the device's push source:

- ``FcmAdapter`` (Firebase Cloud Messaging HTTP v1): ``POST {CEA_FCM_API_URL}/v1/projects/<project>/
  messages:send`` (the project id is the source's sender id) with ``message.token``, a
  ``notification`` (title, body) and ``data`` (``conversation``, ``message``: CEA's ids, strings as
  FCM wants them), authorised by an OAuth2 access token. The token comes from the service account
  (the source's ``SERVICE_ACCOUNT`` credential, its JSON key file, usually as ``…_FILE``): a JWT
  assertion signed RS256 with its private key is posted to its ``token_uri`` (RFC 7523's
  ``jwt-bearer`` grant), and the token is kept until shortly before it expires.
- ``WebPushAdapter`` (RFC 8030): the notification's JSON, encrypted for the subscription
  (``aes128gcm``, RFC 8291, with ``http_ece``), POSTed to its endpoint with ``TTL`` and ``Urgency``,
  and ``Authorization: vapid t=<JWT>, k=<public key>`` (RFC 8292, with ``py_vapid``): the JWT's
  ``aud`` the endpoint's origin and ``sub`` the source's sender id (the VAPID subject, ``mailto:`` or
  ``https:``), signed ES256 with the source's ``VAPID_PRIVATE_KEY`` (PEM, or the raw key base64url).

Failures: a device the push service says is gone (FCM ``UNREGISTERED`` or 404, Web Push 404 or 410)
fails the reply and drops the registration; 429, 5xx and a service that cannot be reached are tried
again (the outbox's backoff); a service account or key the token endpoint refuses fails it with
``credential_refused``. A Web Push endpoint whose host is (or now resolves to) a non-public address
fails it with ``private_endpoint``, nothing sent; a push service's refusal shows its status and, for
a JSON error, its ``reason``/``error`` code word only, never the answer's text.

Replies on ``mobile_app`` are still pushed live to the conversation's group as before (the app's
back-end reads them there or with ``messages/?after=``); the push notification goes beside them, and
the message's ``delivery`` follows it (queued, sent, delivered, read, failed). Without a registered
device a mobile app reply is live only, and an IoT reply goes through the source the customer wrote
in through (``outbox.ProviderReplies``), as before.

Receipts: the app's or device platform's back-end acknowledges ``delivered`` and ``read``
(``push_receipt_record``), for its own conversations' messages only; they are recorded as every
provider's receipts are (``outbox.receipt_record``: forward only, shown on the desk).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit

import http_ece
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from py_vapid import Vapid02, VapidException

from cea.common.channels import Channel
from cea.common.errors import NotFound
from engagement.adapters.credentials import MissingCredential, credential
from engagement.adapters.models import ProviderSend, PushDevice, SendStatus, WebhookSource
from engagement.adapters.outbox import OutboundText, ProviderReplies, SendError, provider_payload, receipt_record
from engagement.adapters.provider_http import provider_call, provider_refusal
from engagement.adapters.push_devices import (
    PUSH_PROVIDERS,
    client_owns_conversation,
    push_device_drop,
    push_device_for,
    urlsafe_b64decode,
)
from engagement.conversations.delivery import Delivery
from engagement.conversations.models import Conversation, Message
from engagement.conversations.replies import ReplyTransport
from integration.webhooks.targets import WebhookTargetRefused, WebhookTransport

logger = logging.getLogger(__name__)

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600
TOKEN_MARGIN_SECONDS = 60  # a cached access token is renewed this long before it expires
# How long a push service keeps a notification for a device that is offline, and its urgency
# (RFC 8030 §5.2, §5.3: "normal" is an incoming chat message).
WEB_PUSH_TTL_SECONDS = 24 * 3600
WEB_PUSH_URGENCY = "normal"
# A notification's text is cut to fit the push services' payload limits (4 KB each, FCM's and an
# encrypted Web Push record's 4096 bytes less its header and tag).
PREVIEW_BYTES = 3000
DEVICE_PREFIX = "device:"


def device_address(device: PushDevice) -> str:
    """A device as a reply's ``to``."""
    return f"{DEVICE_PREFIX}{device.pk}"


def _device(message: OutboundText) -> PushDevice:
    raw = message.to.removeprefix(DEVICE_PREFIX)
    device = PushDevice.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if device is None:
        raise SendError("The device's push registration was removed.", retryable=False, code="unregistered")
    return device


def _preview(text: str) -> str:
    encoded = text.encode()
    if len(encoded) <= PREVIEW_BYTES:
        return text
    return encoded[: PREVIEW_BYTES - 3].decode(errors="ignore") + "…"


def _notification(message: OutboundText) -> dict[str, str]:
    """What the device is told: a title (who replied), the text, and CEA's ids."""
    reply = Message.objects.only("conversation_id", "author_name").get(pk=message.message_id)
    return {
        "title": reply.author_name or "New reply",
        "body": _preview(message.body),
        "conversation": str(reply.conversation_id),
        "message": str(message.message_id),
    }


# --- FCM HTTP v1 ----------------------------------------------------------------------------------


class _AccessTokens:
    """Access tokens by service account and token endpoint, kept until shortly before they expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))
        return token if token and time.monotonic() < expires - TOKEN_MARGIN_SECONDS else None

    def put(self, key: tuple[str, str], token: str, expires_in: float) -> None:
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + expires_in)

    def forget(self, key: tuple[str, str] | None = None) -> None:
        with self._lock:
            if key is None:
                self._tokens.clear()
            else:
                self._tokens.pop(key, None)


fcm_access_tokens = _AccessTokens()


def _service_account(source: WebhookSource) -> dict[str, str]:
    raw = credential(source.name, "SERVICE_ACCOUNT")
    try:
        account = json.loads(raw)
    except ValueError:
        account = None
    needed = ("client_email", "private_key", "token_uri")
    if not isinstance(account, dict) or not all(isinstance(account.get(key), str) for key in needed):
        raise MissingCredential(
            f"The source {source.name!r}'s SERVICE_ACCOUNT is not a service account's JSON key "
            "(client_email, private_key, token_uri).",
            code="bad_credential",
        )
    return account


def _access_token(source: WebhookSource, account: dict[str, str]) -> str:
    """An OAuth2 access token for FCM: the cached one, or one the token endpoint gives for a JWT
    assertion signed with the service account's key (RFC 7523)."""
    key = (account["client_email"], account["token_uri"])
    cached = fcm_access_tokens.get(key)
    if cached:
        return cached
    now = int(time.time())
    claims = {
        "iss": account["client_email"],
        "scope": FCM_SCOPE,
        "aud": account["token_uri"],
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
    }
    try:
        assertion = jwt.encode(
            claims, account["private_key"], algorithm="RS256", headers={"kid": account.get("private_key_id", "")}
        )
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise MissingCredential(
            f"The source {source.name!r}'s service account key cannot sign: {error}", code="bad_credential"
        ) from error
    response = provider_call(
        "FCM's token endpoint", account["token_uri"], data={"grant_type": JWT_BEARER, "assertion": assertion}
    )
    body = _json(response)
    if not response.is_success:
        detail = str(body.get("error_description") or body.get("error") or "")
        refusal = provider_refusal("FCM's token endpoint", response, detail)
        if refusal.retryable:
            raise refusal
        raise SendError(
            f"The token endpoint refused the source {source.name!r}'s service account: {refusal.reason}",
            retryable=False,
            code="credential_refused",
        )
    token, expires_in = body.get("access_token"), body.get("expires_in", ASSERTION_SECONDS)
    if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
        raise SendError("FCM's token endpoint answered without an access token.", retryable=True)
    fcm_access_tokens.put(key, token, float(expires_in))
    return token


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _fcm_error(response: httpx.Response) -> tuple[str, str]:
    """FCM's error code (``UNREGISTERED`` …, from the ``FcmError`` detail, else the status) and message."""
    error = _json(response).get("error")
    if not isinstance(error, dict):
        return "", response.text[:200]
    code = str(error.get("status") or "")
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            code = str(detail["errorCode"])
    return code, str(error.get("message") or "")


class FcmAdapter:
    def send(self, source: WebhookSource, message: OutboundText) -> str:
        device = _device(message)
        account = _service_account(source)
        token = _access_token(source, account)
        notification = _notification(message)
        url = f"{settings.CEA_FCM_API_URL}/v1/projects/{message.sender or source.sender_id}/messages:send"
        body = {
            "message": {
                "token": device.token,
                "notification": {"title": notification["title"], "body": notification["body"]},
                "data": {"conversation": notification["conversation"], "message": notification["message"]},
            }
        }
        response = provider_call("FCM", url, json=body, headers={"Authorization": f"Bearer {token}"})
        if response.is_success:
            name = _json(response).get("name")
            if not isinstance(name, str) or not name:
                raise SendError("FCM accepted the message but its answer has no name.", retryable=False)
            return name
        code, detail = _fcm_error(response)
        if code == "UNREGISTERED" or response.status_code == 404:
            push_device_drop(device, reason=f"FCM: {code or 404} {detail}")
            raise SendError(
                f"FCM says the app is no longer registered ({code or 404}); the device was removed.",
                retryable=False,
                code="unregistered",
            )
        if response.status_code == 401:
            # The access token expired or was revoked early: the next try asks for a new one.
            fcm_access_tokens.forget((account["client_email"], account["token_uri"]))
            raise SendError(f"FCM refused the access token: {detail}", retryable=True, code="401")
        raise provider_refusal("FCM", response, detail, code=code)

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        return ""  # receipts come from the app's back-end (push_receipt_record), not from FCM


# --- Web Push -------------------------------------------------------------------------------------


def _vapid(source: WebhookSource) -> Vapid02:
    """The source's VAPID key: PEM, or the raw 32-byte private key base64url (as web-push tools print it)."""
    raw = credential(source.name, "VAPID_PRIVATE_KEY").strip()
    try:
        if raw.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(raw.encode(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
                raise ValueError("not a P-256 key")
            return Vapid02(key)
        if len(urlsafe_b64decode(raw)) != 32:  # py_vapid would take any bytes as the scalar
            raise ValueError("a raw P-256 private key is 32 bytes")
        return Vapid02.from_raw(raw.encode())
    except (ValueError, TypeError) as error:
        raise MissingCredential(
            f"The source {source.name!r}'s VAPID_PRIVATE_KEY is not a P-256 private key (PEM or raw base64url).",
            code="bad_credential",
        ) from error


def _origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


# A push service's error code word (e.g. ``{"error": "InvalidTokenFormat"}``, ``{"reason": "BadJwtToken"}``):
# one short word of letters, digits and ._- (a sentence could carry whatever the host behind the endpoint says).
ERROR_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")


def _push_service_error(response: httpx.Response) -> str:
    """A push service's JSON error as its ``reason`` or ``error`` code word, else nothing."""
    body = _json(response)
    for key in ("reason", "error"):
        word = body.get(key)
        if isinstance(word, str) and ERROR_WORD.match(word):
            return word
    return ""


def _push_service_call(device: PushDevice, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST to the subscription's endpoint, connecting only to public addresses: the host is resolved
    again now and every address checked (a name that turned private since it was registered is
    refused, ``private_endpoint``), unless ``CEA_PUSH_ALLOW_PRIVATE_HOSTS``."""
    transport = WebhookTransport(allow_private=settings.CEA_PUSH_ALLOW_PRIVATE_HOSTS)
    with httpx.Client(transport=transport) as client:
        try:
            return provider_call("The push service", device.endpoint, content=content, headers=headers, client=client)
        except WebhookTargetRefused as error:
            host = urlsplit(device.endpoint).hostname
            raise SendError(
                f"The subscription's endpoint {host!r} is not a public address; nothing was sent.",
                retryable=False,
                code="private_endpoint",
            ) from error


class WebPushAdapter:
    def send(self, source: WebhookSource, message: OutboundText) -> str:
        device = _device(message)
        vapid = _vapid(source)
        try:
            authorization = vapid.sign(
                {"sub": source.sender_id, "aud": _origin(device.endpoint), "exp": int(time.time()) + 12 * 3600}
            )["Authorization"]
        except VapidException as error:
            raise SendError(f"The VAPID claims are refused: {error}", retryable=False, code="bad_vapid") from error
        plaintext = json.dumps(_notification(message)).encode()
        body = http_ece.encrypt(
            plaintext,
            private_key=ec.generate_private_key(ec.SECP256R1()),  # a new key and salt for every message
            dh=urlsafe_b64decode(device.p256dh),
            auth_secret=urlsafe_b64decode(device.auth),
            version="aes128gcm",
        )
        headers = {
            "Authorization": authorization,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(WEB_PUSH_TTL_SECONDS),
            "Urgency": WEB_PUSH_URGENCY,
        }
        response = _push_service_call(device, content=body, headers=headers)
        if response.is_success:
            # RFC 8030 §5: 201 Created, the push message's resource in Location.
            return response.headers.get("Location") or f"{device_address(device)}:{message.message_id}"
        if response.status_code in (404, 410):
            push_device_drop(device, reason=f"Web Push: {response.status_code}")
            raise SendError(
                f"The push service says the subscription is gone ({response.status_code}); the device was removed.",
                retryable=False,
                code="unregistered",
            )
        # Never the answer's text: the endpoint is the client's choice, its answer none of the desk's.
        raise provider_refusal("The push service", response, _push_service_error(response))

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        return ""  # receipts come from the app's back-end (push_receipt_record)


# --- Replies --------------------------------------------------------------------------------------


class PushReplies:
    """The reply transport of the mobile app and IoT channels: a push to the registered device, else
    ``fallback``'s way (IoT: the provider the customer wrote in through), else live only."""

    def __init__(self, fallback: ReplyTransport | None = None) -> None:
        self.fallback = fallback

    def prepare(self, *, conversation: Conversation, body: str) -> dict:
        device = push_device_for(conversation)
        if device is None or not device.source.is_active or not device.source.sender_id:
            if self.fallback is not None:
                return self.fallback.prepare(conversation=conversation, body=body)
            return {"delivery": Delivery.LIVE}
        payload: dict[str, object] = provider_payload(source=device.source, to=device_address(device))
        if conversation.channel == Channel.MOBILE_APP:
            payload["live"] = True  # pushed to the conversation's group as well, as every app reply
        return payload

    def media_provider(self, *, conversation: Conversation) -> str:
        """Whose file rules apply: the app's own (live, ``""``: the app reads the files with the
        messages; a push notification carries text only), else the fallback's provider."""
        if self.fallback is not None and push_device_for(conversation) is None:
            return self.fallback.media_provider(conversation=conversation)
        return ""

    def queued(self, *, message: Message) -> None:
        ProviderReplies().queued(message=message)


def register() -> None:
    """Replies on mobile app and IoT are pushed to a registered device (after ``outbox.register``)."""
    from engagement.conversations.replies import reply_transport_register

    reply_transport_register(Channel.MOBILE_APP, PushReplies())
    reply_transport_register(Channel.IOT, PushReplies(fallback=ProviderReplies()))


# --- Receipts from the app ------------------------------------------------------------------------


class AppReceipt:
    DELIVERED = SendStatus.DELIVERED
    READ = SendStatus.READ
    ALL = (DELIVERED, READ)


@transaction.atomic
def push_receipt_record(*, client, message_id: int, status: str, at: datetime | None = None) -> Message:
    """The app's (or device platform's) acknowledgement that a pushed reply was ``delivered`` or
    ``read``, recorded as a provider's receipt (forward only) and shown on the desk; the message after it.

    ``NotFound`` (404) for a message that is not a push of one of ``client``'s conversations: another
    client's message is as unknown as one that never was.
    """
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None or not client_owns_conversation(client=client, conversation=message.conversation):
        raise NotFound(f"You have no message {message_id}.", code="unknown_message")
    send = ProviderSend.objects.select_related("source").filter(message=message).first()
    if send is None or send.source.provider not in PUSH_PROVIDERS:
        raise NotFound(f"The message {message_id} was not sent as a push notification.", code="not_pushed")
    receipt_record(source=send.source, status=status, message_id=message.pk, at=at)
    message.refresh_from_db(fields=["payload"])
    return message
