"""Loopback push services for the app and IoT push tests: Google's OAuth2 token endpoint, FCM's HTTP v1
API and a Web Push service, on one real socket, speaking the protocols as their public documentation
shapes them (checked here independently of CEA's own code):

- ``POST /token``: Google's token endpoint for service accounts (RFC 7523 ``jwt-bearer`` grant). The
  ``assertion`` must be a JWT signed RS256 with the test service account's key (verified with its
  public key), ``iss`` its client email, ``aud`` this endpoint, ``scope`` FCM's, and unexpired;
  answers ``{"access_token", "expires_in", "token_type"}``, or 400 ``invalid_grant``. ``refuse_tokens``
  answers 401 ``invalid_client`` (a deleted key).
- ``POST /v1/projects/{project}/messages:send``: FCM's HTTP v1 send. A bearer token this endpoint
  issued (401 ``UNAUTHENTICATED`` otherwise), the project ``PROJECT``, a ``message`` with ``token``,
  ``notification`` strings and ``data`` whose values are strings (400 ``INVALID_ARGUMENT``); a token
  in ``dead_tokens`` answers 404 ``UNREGISTERED`` (the ``FcmError`` detail). Answers
  ``{"name": "projects/<project>/messages/<id>"}``.
- ``POST /push/<subscription>``: a Web Push service (RFC 8030). ``Authorization: vapid t=<JWT>, k=<key>``
  (RFC 8292): the JWT verified ES256 with ``k``, which must be the application server key the
  subscription was made with, ``aud`` this service's origin, ``exp`` within 24 hours, ``sub`` a
  ``mailto:`` or ``https:`` URL (401/403 otherwise); ``TTL`` required (400), ``Urgency`` one of
  RFC 8030's; ``Content-Encoding: aes128gcm`` and a body that DECRYPTS (``http_ece.decrypt``) with
  the subscription's private key and auth secret (RFC 8291). A gone subscription answers 410.
  Answers 201 with the message's ``Location``.

``script`` holds canned answers for the next calls to FCM or the Web Push service (``(status, json
body)``), e.g. 503 while the service is down; ``stop()`` closes the socket, so calls are refused.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.engagement.provider_support import JsonHandler, LoopbackServer

PROJECT = "cea-app-4f2a1"
CLIENT_EMAIL = "firebase-adminsdk@cea-app-4f2a1.iam.gserviceaccount.com"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
URGENCIES = {"very-low", "low", "normal", "high"}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_raw(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class PushServices(LoopbackServer):
    def __init__(self) -> None:
        self.account_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.vapid_key = ec.generate_private_key(ec.SECP256R1())  # the app's application server key
        self.tokens_issued: list[str] = []
        self.fcm_sent: list[dict[str, Any]] = []
        self.pushed: list[dict[str, Any]] = []  # Web Push messages, decrypted
        self.dead_tokens: set[str] = set()
        self.gone_subscriptions: set[str] = set()
        self.refuse_tokens = False
        self.script: list[tuple[int, dict]] = []
        self.calls = 0
        self._subscriptions: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self._lock = threading.Lock()
        services = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with services._lock:
                    services.calls += 1
                    # Canned answers are the push services' (FCM's, Web Push's), not the token endpoint's.
                    canned = services.script.pop(0) if services.script and self.path != "/token" else None
                if canned is not None:
                    answer = (*canned, {})
                elif self.path == "/token":
                    answer = (*services._token(dict(parse_qsl(body.decode()))), {})
                elif self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send"):
                    project = self.path.removeprefix("/v1/projects/").removesuffix("/messages:send")
                    answer = (*services._fcm(project, self.headers.get("Authorization", ""), body), {})
                elif self.path.startswith("/push/"):
                    answer = services._web_push(self.path.removeprefix("/push/"), self.headers, body)
                else:
                    answer = (404, {"error": "no such endpoint"}, {})
                self._answer(*answer)

        self.serve(Handler)

    # --- What the app's developer downloads ----------------------------------------------------------

    def service_account(self) -> dict[str, str]:
        """The service account's JSON key file, as the Firebase console gives it."""
        pem = self.account_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "5d3c0c2f9a1e4b7d8c6a",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "104783628837461726354",
            "token_uri": f"{self.url}/token",
        }

    def vapid_private_pem(self) -> str:
        return self.vapid_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def vapid_private_raw(self) -> str:
        return b64url(self.vapid_key.private_numbers().private_value.to_bytes(32, "big"))

    def subscribe(self) -> dict:
        """A browser's ``PushSubscription.toJSON()``: a new endpoint with its keys (the user agent's side)."""
        key, auth = ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
        name = secrets.token_urlsafe(12)
        with self._lock:
            self._subscriptions[name] = (key, auth)
        return {
            "endpoint": f"{self.url}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(public_raw(key)), "auth": b64url(auth)},
        }

    # --- Google's token endpoint -----------------------------------------------------------------

    def _token(self, form: dict) -> tuple[int, dict]:
        if self.refuse_tokens:
            return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.account_key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
                issuer=CLIENT_EMAIL,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {error}"}
        if claims.get("scope") != FCM_SCOPE or claims["exp"] - claims["iat"] > 3600:
            return 400, {"error": "invalid_scope", "error_description": "Bad scope or lifetime."}
        token = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens_issued.append(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    # --- FCM HTTP v1 -----------------------------------------------------------------------------

    def _fcm(self, project: str, authorization: str, body: bytes) -> tuple[int, dict]:
        if authorization.removeprefix("Bearer ") not in self.tokens_issued:
            return 401, _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if project != PROJECT:
            return 403, _fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")
        message = json.loads(body).get("message") or {}
        notification, data = message.get("notification", {}), message.get("data", {})
        if (
            not isinstance(message.get("token"), str)
            or not all(isinstance(value, str) for value in (*notification.values(), *data.values()))
            or set(notification) - {"title", "body", "image"}
        ):
            return 400, _fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", "INVALID_ARGUMENT")
        if message["token"] in self.dead_tokens:
            return 404, _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        name = f"projects/{project}/messages/0:{int(time.time() * 1000)}%{secrets.token_hex(8)}"
        with self._lock:
            self.fcm_sent.append({"name": name, **message})
        return 200, {"name": name}

    # --- Web Push --------------------------------------------------------------------------------

    def _web_push(self, name: str, headers, body: bytes) -> tuple[int, dict, dict]:
        subscription = self._subscriptions.get(name)
        if subscription is None or name in self.gone_subscriptions:
            return 410, {"reason": "The subscription has expired or was removed."}, {}
        scheme, _, params = headers.get("Authorization", "").partition(" ")
        parts = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in parts or "k" not in parts:
            return 401, {"reason": "Missing VAPID authorization."}, {}
        if b64url_decode(parts["k"]) != public_raw(self.vapid_key):
            return 403, {"reason": "The key is not the subscription's application server key."}, {}
        server_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(parts["k"]))
        try:
            claims = jwt.decode(
                parts["t"], server_key, algorithms=["ES256"], audience=self.url, options={"require": ["exp", "sub"]}
            )
        except jwt.PyJWTError as error:
            return 403, {"reason": f"Bad VAPID token: {error}"}, {}
        if claims["exp"] > time.time() + 24 * 3600 or not claims["sub"].startswith(("mailto:", "https:")):
            return 403, {"reason": "VAPID exp beyond 24 hours or sub not mailto:/https:"}, {}
        if not headers.get("TTL", "").isdigit():
            return 400, {"reason": "TTL header missing."}, {}
        if headers.get("Urgency", "normal") not in URGENCIES or headers.get("Content-Encoding") != "aes128gcm":
            return 400, {"reason": "Bad Urgency or Content-Encoding."}, {}
        private_key, auth = subscription
        try:
            plaintext = http_ece.decrypt(body, private_key=private_key, auth_secret=auth, version="aes128gcm")
        except Exception as error:  # any failure to decrypt is the sender's fault
            return 400, {"reason": f"Cannot decrypt: {error}"}, {}
        message_id = secrets.token_hex(8)
        with self._lock:
            self.pushed.append(
                {
                    "subscription": name,
                    "ttl": int(headers["TTL"]),
                    "urgency": headers.get("Urgency"),
                    "vapid": claims,
                    "notification": json.loads(plaintext),
                }
            )
        return 201, {}, {"Location": f"{self.url}/message/{message_id}"}


def _fcm_error(code: int, status: str, message: str, fcm_code: str = "") -> dict:
    """FCM's error body (google.rpc.Status, with the FcmError detail when there is one)."""
    details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
    return {"error": {"code": code, "message": message, "status": status, **({"details": details} if fcm_code else {})}}
