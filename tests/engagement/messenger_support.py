"""A loopback Graph API for the Messenger tests: the Send API and a CDN serving customers' files, on a real socket.

``Graph`` is one ``http.server`` on 127.0.0.1 in a thread that speaks the Send API as Meta's
documentation shapes it:

- ``POST /v21.0/{page-id}/messages`` (or ``/v21.0/me/messages``), a JSON body, the Page access token
  as ``Authorization: Bearer`` or the ``access_token`` query parameter (otherwise 401 with Graph's
  error JSON, ``OAuthException`` code 190). ``recipient.id``, ``messaging_type`` and ``message``
  (``text`` or ``attachment`` with ``type`` and ``payload.url``) are required (400, ``(#100)``
  otherwise). A ``RESPONSE`` more than 24 hours after the customer's last message, or a
  ``MESSAGE_TAG`` ``HUMAN_AGENT`` more than 7 days after it, is refused as Meta refuses it: 400,
  code 10, subcode 2018278. It answers ``{"recipient_id", "message_id"}``.
- ``GET /cdn/{name}``: the files of ``files`` (``name`` → ``(content type, bytes)``), as Meta's CDN
  serves an inbound attachment's ``payload.url``.

``script`` holds canned answers for the next Send API calls (``(status, json body)``);
``attachment_answer`` one for every file sent (Graph down after a reply's text went).

The webhooks Meta posts are built here too, independently of CEA's code: ``page_webhook`` (an
``object: page`` body of ``entry[].messaging[]`` events) and ``hub_signature`` (``X-Hub-Signature-256``:
``sha256=`` and the hex HMAC-SHA256 of the raw body, keyed with the app secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.engagement.provider_support import JsonHandler, LoopbackServer

PAGE_ID = "104857600000001"
PSID = "6543210987654321"
PAGE_TOKEN = "EAAG-page-access-token-for-tests"
APP_SECRET = "messenger-app-secret-for-tests"
VERIFY_TOKEN = "messenger-verify-token"
VERSION = "v21.0"
DAY_MS = 24 * 3600 * 1000


def now_ms() -> int:
    return int(time.time() * 1000)


def graph_error(message: str, *, code: int, kind: str = "OAuthException", subcode: int | None = None) -> dict:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_hex(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class Graph(LoopbackServer):
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []  # every message the Send API accepted (its body and id)
        self.calls = 0
        self.downloads: list[str] = []
        self.script: list[tuple[int, dict]] = []
        self.attachment_answer: tuple[int, dict] | None = None  # a canned answer for every file sent
        self.files: dict[str, tuple[str, bytes]] = {}
        self.last_user_message: dict[str, int] = {}  # PSID → ms of the customer's last message (Meta's view)
        self._lock = threading.Lock()
        graph = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                with graph._lock:
                    graph.calls += 1
                    canned = graph.script.pop(0) if graph.script else None
                if canned is not None:
                    self._answer(*canned)
                    return
                segments = parts.path.strip("/").split("/")
                if len(segments) != 3 or segments[0] != VERSION or segments[2] != "messages":
                    self._answer(400, graph_error("Unknown path components", code=2500))
                    return
                token = parse_qs(parts.query).get("access_token", [""])[0]
                authorization = self.headers.get("Authorization", "")
                if authorization.startswith("Bearer "):
                    token = authorization.removeprefix("Bearer ")
                if token != PAGE_TOKEN:
                    self._answer(401, graph_error("Invalid OAuth access token - Cannot parse access token", code=190))
                    return
                if segments[1] not in (PAGE_ID, "me"):
                    self._answer(400, graph_error("(#100) The page id is not this token's Page", code=100))
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._answer(400, graph_error("(#100) The body is not JSON", code=100))
                    return
                self._answer(*graph._send(body))

            def do_GET(self) -> None:
                name = urlsplit(self.path).path.removeprefix("/cdn/")
                with graph._lock:
                    graph.downloads.append(name)
                    found = graph.files.get(name)
                if found is None:
                    self._answer(404, graph_error("Not found", code=100))
                    return
                content_type, content = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.serve(Handler)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/{VERSION}"

    def file_url(self, name: str) -> str:
        return f"{self.url}/cdn/{name}"

    def _send(self, body: Any) -> tuple[int, dict]:
        if not isinstance(body, dict):
            return 400, graph_error("(#100) The body is an object", code=100)
        recipient = body.get("recipient")
        psid = recipient.get("id") if isinstance(recipient, dict) else None
        if not psid:
            return 400, graph_error("(#100) The parameter recipient is required", code=100)
        messaging_type = body.get("messaging_type")
        if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return 400, graph_error(
                "(#100) Param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG", code=100
            )
        message = body.get("message")
        if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
            return 400, graph_error("(#100) The parameter message[text] or message[attachment] is required", code=100)
        if message.get("attachment"):
            if self.attachment_answer is not None:
                return self.attachment_answer
            attachment = message["attachment"]
            if attachment.get("type") not in ("image", "audio", "video", "file") or not attachment.get(
                "payload", {}
            ).get("url"):
                return 400, graph_error("(#100) Invalid attachment", code=100)
        last = self.last_user_message.get(psid)
        if last is None:
            return 400, graph_error(
                "(#551) This person isn't available right now.", code=551, kind="OAuthException", subcode=1545041
            )
        if messaging_type == "MESSAGE_TAG":
            if body.get("tag") != "HUMAN_AGENT":
                return 400, graph_error("(#100) Param tag must be a supported tag", code=100)
            window = 7 * DAY_MS
        else:
            window = DAY_MS
        if now_ms() - last > window:
            return 400, graph_error("(#10) This message is sent outside of allowed window.", code=10, subcode=2018278)
        message_id = "m_" + secrets.token_urlsafe(24)
        with self._lock:
            self.sent.append({"message_id": message_id, **body})
        return 200, {"recipient_id": psid, "message_id": message_id}


# --- Meta's webhooks ------------------------------------------------------------------------------


def hub_signature(body: bytes, app_secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def page_webhook(*events: dict, page_id: str = PAGE_ID) -> bytes:
    """The raw body Meta posts for ``events`` of the Page (one entry)."""
    entry = {"id": page_id, "time": now_ms(), "messaging": list(events)}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def _event(psid: str, page_id: str, timestamp: int | None, **content: Any) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": now_ms() if timestamp is None else timestamp,
        **content,
    }


def message_event(
    text: str = "",
    *,
    mid: str = "m_inbound_1",
    attachments: list[dict] | None = None,
    psid: str = PSID,
    page_id: str = PAGE_ID,
    timestamp: int | None = None,
) -> dict:
    message: dict[str, Any] = {"mid": mid}
    if text:
        message["text"] = text
    if attachments:
        message["attachments"] = attachments
    return _event(psid, page_id, timestamp, message=message)


def attachment(kind: str, url: str) -> dict:
    return {"type": kind, "payload": {"url": url}}


def echo_event(text: str, *, mid: str = "m_echo_1", psid: str = PSID, page_id: str = PAGE_ID) -> dict:
    """The Page's own message, echoed: its sender is the Page."""
    return {
        "sender": {"id": page_id},
        "recipient": {"id": psid},
        "timestamp": now_ms(),
        "message": {"is_echo": True, "app_id": 1517776481860111, "mid": mid, "text": text},
    }


def postback_event(title: str, payload: str, *, mid: str = "m_postback_1", psid: str = PSID) -> dict:
    return _event(psid, PAGE_ID, None, postback={"title": title, "payload": payload, "mid": mid})


def delivery_event(mids: list[str], *, watermark: int | None = None, psid: str = PSID) -> dict:
    delivery: dict[str, Any] = {"watermark": now_ms() if watermark is None else watermark}
    if mids:
        delivery["mids"] = mids
    return _event(psid, PAGE_ID, None, delivery=delivery)


def read_event(*, watermark: int | None = None, psid: str = PSID) -> dict:
    return _event(psid, PAGE_ID, None, read={"watermark": now_ms() if watermark is None else watermark})
