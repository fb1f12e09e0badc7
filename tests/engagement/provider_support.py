"""Loopback SMS providers for the outbox tests: Twilio's Messages API and Vonage's SMS API on a real socket.

``Providers`` is one ``http.server`` on 127.0.0.1 in a thread that speaks both APIs as their public
documentation shapes them:

- Twilio: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded, HTTP basic auth
  ``AccountSid:AuthToken`` (401 with Twilio's error JSON otherwise); ``To``, ``Body`` and ``From`` or
  ``MessagingServiceSid`` required (400, error 21604/21602 otherwise); answers 201 with the Message
  resource (``sid`` ``SM…``, ``status`` ``queued`` …).
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
        self._lock = threading.Lock()
        providers = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
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

    def _twilio(self, form: dict, authorization: str) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if authorization != expected:
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
        if not form.get("Body"):
            return 400, {"code": 21602, "message": "Message body is required.", "status": 400}
        sid = "SM" + uuid.uuid4().hex
        record = {"provider": "twilio", "sid": sid, **form}
        with self._lock:
            self.sent.append(record)
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return 201, {
            "account_sid": TWILIO_SID,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
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


def twilio_inbound_params(*, sid: str, sender: str, to: str, body: str) -> dict[str, str]:
    """An inbound SMS as Twilio posts it to the number's webhook."""
    return {
        "ToCountry": "GB",
        "SmsMessageSid": sid,
        "NumMedia": "0",
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
