"""Loopback SMS providers for the outbox tests: Twilio's Messages API and Vonage's SMS API on a real socket.

``Providers`` is one ``http.server`` on 127.0.0.1 in a thread that speaks both APIs as their public
documentation shapes them:

- Twilio: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded, HTTP basic auth
  ``AccountSid:AuthToken`` (401 with Twilio's error JSON otherwise); ``To``, ``Body`` (or at least one
  ``MediaUrl``: an MMS) and ``From`` or ``MessagingServiceSid`` required (400, error 21604/21602
  otherwise); at most 10 ``MediaUrl`` (21623 otherwise), each fetched at once, without credentials, as
  Twilio fetches them (kept in the record's ``fetched``); answers 201 with the Message resource (``sid``
  ``SM…``/``MM…``, ``status`` ``queued``, ``num_media`` …).
- Twilio's media of inbound MMS (``add_media``): ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{MM}/Media/{ME}``
  with HTTP basic auth answers a 307 to the file's store (``/media-store/{ME}``), as Twilio redirects to its CDN.
- Vonage: ``POST /sms/json``, form-encoded ``api_key``, ``api_secret``, ``from``, ``to``, ``text``;
  answers 200 with ``message-count`` and one entry per segment (``status`` ``"0"``; ``"4"`` Bad
  Credentials, ``"2"`` Missing params).

``script`` holds canned failures for the next calls (``(status, json body)``), e.g. a 503 while the
provider is down. ``closed()`` stops listening, so calls are refused at the socket.

The provider's side of the webhooks is built here too, signed as each provider signs them
(independently of CEA's own checking code): ``twilio_request`` (``X-Twilio-Signature``: base64
HMAC-SHA1 of the URL and the sorted parameters) and ``vonage_params`` (``sig``: Vonage's "Signing
messages", MD5 hash or HMAC over ``&name=value`` sorted, ``&`` and ``=`` in values as ``_``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

TWILIO_SID = "AC" + "a1" * 16
TWILIO_TOKEN = "twilio-auth-token-for-tests"
VONAGE_KEY = "a1b2c3d4"
VONAGE_SECRET = "vonage-api-secret"
VONAGE_SIGNATURE_SECRET = "vonage-signature-secret"


class JsonHandler(BaseHTTPRequestHandler):
    """A loopback provider's request handler: JSON answers, no logging."""

    def _answer(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackServer:
    """An ``http.server`` on 127.0.0.1 in a thread of its own: ``serve(handler)``, ``url``, ``stop()``."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.thread.is_alive():  # once: a second shutdown() would wait for a loop that has ended
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


class Providers(LoopbackServer):
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []  # every message the provider accepted
        self.calls = 0
        self.script: list[tuple[int, dict]] = []  # canned answers for the next calls
        self.media: dict[str, tuple[bytes, str]] = {}  # inbound MMS media by sid (ME…): content, type
        self.media_gets: list[str] = []  # the Authorization header of each GET of a media resource
        self._lock = threading.Lock()
        providers = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                prefix = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/"
                media_sid = self.path.rstrip("/").rsplit("/", 1)[-1]
                if self.path.startswith(prefix) and "/Media/" in self.path and media_sid in providers.media:
                    authorization = self.headers.get("Authorization", "")
                    providers.media_gets.append(authorization)
                    if authorization != providers._twilio_basic():
                        self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                        return
                    self.send_response(307)
                    self.send_header("Location", f"/media-store/{media_sid}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path.startswith("/media-store/") and media_sid in providers.media:
                    content, content_type = providers.media[media_sid]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                else:
                    self._answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                pairs = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
                form: dict[str, Any] = dict(pairs)
                media_urls = [value for name, value in pairs if name == "MediaUrl"]
                if media_urls:
                    form["MediaUrl"] = media_urls
                with providers._lock:
                    providers.calls += 1
                    canned = providers.script.pop(0) if providers.script else None
                if canned is not None:
                    self._answer(*canned)
                elif self.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
                    self._answer(*providers._twilio(form, self.headers.get("Authorization", "")))
                elif self.path.startswith("/2010-04-01/Accounts/"):
                    self._answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                elif self.path == "/sms/json":
                    self._answer(*providers._vonage(form))
                else:
                    self._answer(404, {"error": "no such endpoint"})

        self.serve(Handler)

    # --- Twilio's Messages resource -------------------------------------------------------------

    def add_media(self, content: bytes, content_type: str, message_sid: str = "MM" + "0" * 32) -> str:
        """Keep a file an inbound MMS carries; its ``MediaUrl`` as Twilio gives it in the webhook."""
        media_sid = "ME" + uuid.uuid4().hex
        self.media[media_sid] = (content, content_type)
        return f"{self.url}/2010-04-01/Accounts/{TWILIO_SID}/Messages/{message_sid}/Media/{media_sid}"

    @staticmethod
    def _twilio_basic() -> str:
        return "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()

    @staticmethod
    def _fetch(url: str) -> dict[str, Any]:
        """Fetch a ``MediaUrl`` as Twilio does: a plain GET, no credentials."""
        try:
            response = httpx.get(url, timeout=30)
        except httpx.HTTPError as error:
            return {"url": url, "status": None, "error": str(error)}
        return {
            "url": url,
            "status": response.status_code,
            "content": response.content,
            "content_type": response.headers.get("Content-Type", ""),
            "disposition": response.headers.get("Content-Disposition", ""),
            "nosniff": response.headers.get("X-Content-Type-Options", ""),
        }

    def _twilio(self, form: dict, authorization: str) -> tuple[int, dict]:
        if authorization != self._twilio_basic():
            return 401, {
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            }
        if not form.get("To"):
            return 400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400}
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, {"code": 21603, "message": "A 'From' phone number is required.", "status": 400}
        media_urls = form.get("MediaUrl", [])
        if not form.get("Body") and not media_urls:
            return 400, {"code": 21602, "message": "Message body is required.", "status": 400}
        if len(media_urls) > 10:
            return 400, {"code": 21623, "message": "Too many media URLs: at most 10.", "status": 400}
        sid = ("MM" if media_urls else "SM") + uuid.uuid4().hex
        record = {"provider": "twilio", "sid": sid, **form}
        if media_urls:
            record["fetched"] = [self._fetch(url) for url in media_urls]
        with self._lock:
            self.sent.append(record)
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return 201, {
            "account_sid": TWILIO_SID,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": str(len(media_urls)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json",
        }

    # --- Vonage's SMS API -------------------------------------------------------------------------

    def _vonage(self, form: dict) -> tuple[int, dict]:
        if form.get("api_key") != VONAGE_KEY or form.get("api_secret") != VONAGE_SECRET:
            return 200, {"message-count": "1", "messages": [{"status": "4", "error-text": "Bad Credentials"}]}
        missing = [name for name in ("from", "to", "text") if not form.get(name)]
        if missing:
            return 200, {"message-count": "1", "messages": [{"status": "2", "error-text": f"Missing {missing[0]}"}]}
        per_part = 67 if form.get("type") == "unicode" else 153
        single = 70 if form.get("type") == "unicode" else 160
        parts = 1 if len(form["text"]) <= single else math.ceil(len(form["text"]) / per_part)
        ids = [uuid.uuid4().hex[:16].upper() for _ in range(parts)]
        with self._lock:
            self.sent.append({"provider": "vonage", "message-id": ids[0], **form})
        return 200, {
            "message-count": str(parts),
            "messages": [
                {
                    "to": form["to"],
                    "message-id": message_id,
                    "status": "0",
                    "remaining-balance": "3.14159265",
                    "message-price": "0.03330000",
                    "network": "12345",
                    "client-ref": form.get("client-ref", ""),
                    "account-ref": "",
                }
                for message_id in ids
            ],
        }


# --- The providers' webhooks, signed as they sign them ------------------------------------------


def twilio_request(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> dict[str, str]:
    """The ``X-Twilio-Signature`` header of a POST of ``params`` to ``url``."""
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    signature = base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()
    return {"X-Twilio-Signature": signature}


def twilio_status_params(record: dict, status: str, error_code: str = "") -> dict[str, str]:
    """A status callback's parameters for the message ``record`` the loopback Twilio accepted."""
    params = {
        "AccountSid": TWILIO_SID,
        "ApiVersion": "2010-04-01",
        "From": record.get("From", ""),
        "To": record["To"],
        "MessageSid": record["sid"],
        "SmsSid": record["sid"],
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def twilio_inbound_params(
    *,
    sid: str,
    sender: str,
    to: str,
    body: str,
    media: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, str]:
    """An inbound SMS as Twilio posts it to the number's webhook; with ``media`` (URL, type) an MMS."""
    files = {}
    for index, (url, content_type) in enumerate(media):
        files[f"MediaUrl{index}"] = url
        files[f"MediaContentType{index}"] = content_type
    return {
        **files,
        "ToCountry": "GB",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def vonage_params(params: dict[str, str], *, secret: str = VONAGE_SIGNATURE_SECRET, method: str = "md5hash") -> dict:
    """``params`` with ``timestamp``, ``nonce`` and ``sig`` added, as Vonage signs a webhook."""
    signed = {**params, "timestamp": params.get("timestamp", str(int(time.time()))), "nonce": secrets.token_hex(8)}
    text = ""
    for name in sorted(signed):
        text += "&" + name + "=" + signed[name].replace("&", "_").replace("=", "_")
    if method == "md5hash":
        sig = hashlib.md5((text + secret).encode()).hexdigest()  # noqa: S324 (Vonage's documented scheme)
    else:
        sig = hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest().upper()
    return {**signed, "sig": sig}


def vonage_receipt_params(record: dict, status: str, err_code: str = "0") -> dict[str, str]:
    """A delivery receipt (DLR) for the message ``record`` the loopback Vonage accepted."""
    return {
        "msisdn": record["to"],
        "to": record["from"],
        "network-code": "23410",
        "messageId": record["message-id"],
        "price": "0.03330000",
        "status": status,
        "scts": time.strftime("%y%m%d%H%M", time.gmtime()),
        "err-code": err_code,
        "api-key": VONAGE_KEY,
        "client-ref": record.get("client-ref", ""),
        "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def path_of(url: str) -> str:
    """The path and query of an absolute URL (to post it through Django's test client)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
