"""A loopback Graph API for the WhatsApp tests: Meta's WhatsApp Cloud API on a real socket, and its webhooks.

``Graph`` is one ``http.server`` on 127.0.0.1 in a thread that answers as the Cloud API's public
documentation shapes it, under a version prefix (``/v21.0``):

- Every call needs ``Authorization: Bearer <token>``; otherwise 401 with Graph's error JSON
  (``{"error": {"message", "type": "OAuthException", "code": 190, "fbtrace_id"}}``).
- ``POST /{phone-number-id}/messages`` (JSON): ``messaging_product: whatsapp``, ``to`` and a
  ``type`` with its object (``text.body``; ``template`` with ``name``, ``language.code`` and the
  body's ``parameters``; ``image``/``document``/``audio``/``video`` with a ``link``). Answers
  ``{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}``;
  an unknown number id, a missing field or a template it does not know (132001) or with the
  wrong number of values (132000) is a 400 with Graph's error.
- ``GET /{media-id}``: the media's ``url`` (on this server), ``mime_type``, ``sha256``,
  ``file_size``; ``GET`` that URL (bearer too) gives the bytes.
- ``GET /{waba-id}/message_templates``: ``{"data": [...], "paging": {"cursors", "next"}}``, a
  page of ``limit`` at a time.

``script`` holds canned failures for the next calls (``(status, json body)``); ``stop()`` closes the
socket (calls are then refused). The webhooks Meta posts are built here as Meta builds them, signed
with ``X-Hub-Signature-256`` (HMAC-SHA256 of the body keyed with the app secret), independently of
CEA's code.
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

VERSION = "v21.0"
ACCESS_TOKEN = "EAAG-whatsapp-test-token"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
WABA_ID = "102290129340398"


def graph_error(message: str, code: int, *, kind: str = "OAuthException", details: str = "") -> dict:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_hex(8)}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


class Graph(LoopbackServer):
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []  # every message accepted, as posted
        self.calls: list[str] = []
        self.script: list[tuple[int, dict]] = []
        self.media: dict[str, tuple[str, bytes]] = {}  # media id → (type, content)
        self.media_urls: dict[str, str] = {}  # media id → the url its GET names (else this server's)
        # Templates of the WABA, as Graph lists them.
        self.templates: list[dict[str, Any]] = []
        self.phone_number_ids = {PHONE_NUMBER_ID}
        self._lock = threading.Lock()
        graph = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self._handle("GET", b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle("POST", self.rfile.read(length))

            def _handle(self, method: str, body: bytes) -> None:
                url = urlsplit(self.path)
                with graph._lock:
                    graph.calls.append(f"{method} {url.path}")
                    canned = graph.script.pop(0) if graph.script else None
                if canned is not None:
                    return self._answer(*canned)
                if self.headers.get("Authorization", "") != f"Bearer {ACCESS_TOKEN}":
                    return self._answer(401, graph_error("Invalid OAuth access token - Cannot parse access token", 190))
                parts = url.path.strip("/").split("/")
                if parts[0] == "download" and len(parts) == 2 and parts[1] in graph.media:
                    content_type, content = graph.media[parts[1]]
                    return self._bytes(200, content, content_type)
                if parts[0] != VERSION:
                    return self._answer(404, graph_error("Unknown path components", 2500))
                rest = parts[1:]
                if method == "POST" and len(rest) == 2 and rest[1] == "messages":
                    return self._answer(*graph._message(rest[0], body))
                if method == "GET" and len(rest) == 2 and rest[1] == "message_templates":
                    return self._answer(*graph._templates(rest[0], parse_qs(url.query)))
                if method == "GET" and len(rest) == 1 and rest[0] in graph.media:
                    content_type, content = graph.media[rest[0]]
                    return self._answer(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "url": graph.media_urls.get(rest[0], f"{graph.url}/download/{rest[0]}"),
                            "mime_type": content_type,
                            "sha256": hashlib.sha256(content).hexdigest(),
                            "file_size": len(content),
                            "id": rest[0],
                        },
                    )
                return self._answer(
                    400,
                    graph_error(
                        f"Unsupported {method.lower()} request. Object with ID '{rest[0] if rest else ''}' does not "
                        "exist, cannot be loaded due to missing permissions, or does not support this operation.",
                        100,
                        kind="GraphMethodException",
                    ),
                )

            def _bytes(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.serve(Handler)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/{VERSION}"

    def add_media(self, content_type: str, content: bytes) -> str:
        media_id = str(int(time.time() * 1000)) + secrets.token_hex(2)
        self.media[media_id] = (content_type, content)
        return media_id

    def add_template(self, name: str, text: str, *, language: str = "en_GB", status: str = "APPROVED") -> None:
        self.templates.append(
            {
                "name": name,
                "language": language,
                "status": status,
                "category": "UTILITY",
                "id": str(1000 + len(self.templates)),
                "components": [{"type": "HEADER", "format": "TEXT", "text": "Hello"}, {"type": "BODY", "text": text}],
            }
        )

    # --- POST /{phone-number-id}/messages -----------------------------------------------------------

    def _message(self, number_id: str, body: bytes) -> tuple[int, dict]:
        if number_id not in self.phone_number_ids:
            return 400, graph_error(
                f"Unsupported post request. Object with ID '{number_id}' does not exist",
                100,
                kind="GraphMethodException",
            )
        try:
            message = json.loads(body)
        except ValueError:
            return 400, graph_error("(#100) The parameter messaging_product is required.", 100)
        if message.get("messaging_product") != "whatsapp":
            return 400, graph_error("(#100) The parameter messaging_product is required.", 100)
        if not message.get("to"):
            return 400, graph_error("(#100) The parameter to is required.", 100)
        kind = message.get("type", "text")
        item = message.get(kind)
        if not isinstance(item, dict):
            return 400, graph_error(f"(#100) The parameter {kind} is required.", 100)
        if kind == "text" and not item.get("body"):
            return 400, graph_error("(#100) The parameter text['body'] is required.", 100)
        if kind in ("image", "document", "audio", "video") and not (item.get("link") or item.get("id")):
            return 400, graph_error(f"(#100) The parameter {kind}['link'] is required.", 100)
        if kind == "template":
            refused = self._template_check(item)
            if refused:
                return 400, refused
        wamid = "wamid." + secrets.token_urlsafe(24)
        with self._lock:
            self.sent.append({"id": wamid, **message})
        answer: dict[str, Any] = {"id": wamid}
        if kind == "template":
            answer["message_status"] = "accepted"
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": message["to"], "wa_id": message["to"].lstrip("+")}],
            "messages": [answer],
        }

    def _template_check(self, item: dict) -> dict | None:
        language = (item.get("language") or {}).get("code", "")
        known = next((t for t in self.templates if t["name"] == item.get("name") and t["language"] == language), None)
        if known is None or known["status"] != "APPROVED":
            return graph_error(
                "(#132001) Template name does not exist in the translation",
                132001,
                details=f"template name ({item.get('name')}) does not exist in {language}",
            )
        body = next(c["text"] for c in known["components"] if c["type"] == "BODY")
        expected = body.count("{{")
        given = sum(
            len(component.get("parameters", []))
            for component in item.get("components", [])
            if component.get("type") == "body"
        )
        if given != expected:
            return graph_error(
                "(#132000) Number of parameters does not match the expected number of params",
                132000,
                details=f"body: number of localizable_params ({given}) does not match the expected number of params "
                f"({expected})",
            )
        return None

    # --- GET /{waba-id}/message_templates -----------------------------------------------------------

    def _templates(self, waba_id: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        if waba_id != WABA_ID:
            return 400, graph_error(f"Unsupported get request. Object with ID '{waba_id}' does not exist", 100)
        limit = int(query.get("limit", ["25"])[0])
        start = int(query.get("after", ["0"])[0] or 0)
        page = self.templates[start : start + limit]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + limit < len(self.templates):
            paging["next"] = f"{self.graph_url}/{waba_id}/message_templates?limit={limit}&after={start + limit}"
        return 200, {"data": page, "paging": paging}


# --- The webhooks Meta posts ------------------------------------------------------------------------


def meta_signed(document: dict, app_secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """The body Meta posts and its headers, ``X-Hub-Signature-256`` as Meta computes it."""
    body = json.dumps(document, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


def _change(value: dict, number_id: str) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def inbound_message(
    wa_id: str, message: dict, *, name: str = "Kerry Fisher", number_id: str = PHONE_NUMBER_ID, at: int | None = None
) -> dict:
    """A ``messages`` webhook: one message from ``wa_id`` (``message``: ``type`` and its object)."""
    return _change(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": "wamid." + secrets.token_urlsafe(24),
                    "timestamp": str(at or int(time.time())),
                    **message,
                }
            ],
        },
        number_id,
    )


def text_message(wa_id: str, text: str, **kwargs) -> dict:
    return inbound_message(wa_id, {"type": "text", "text": {"body": text}}, **kwargs)


def status_update(
    wamid: str, status: str, wa_id: str, *, errors: list[dict] | None = None, number_id: str = PHONE_NUMBER_ID
) -> dict:
    """A ``statuses`` webhook for a message the business sent."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
    }
    if status in ("sent", "delivered"):
        entry["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
        entry["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if errors:
        entry["errors"] = errors
    return _change({"statuses": [entry]}, number_id)


class FileHost(LoopbackServer):
    """A CDN on loopback, named ``host`` in its URLs (``localhost`` is another origin than
    ``127.0.0.1``): ``files`` (path → (type, bytes)) answered 200, ``redirects`` (path → Location)
    answered 302, anything else 404; ``requests`` records each GET's path and ``Authorization``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.files: dict[str, tuple[str, bytes]] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        cdn = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                cdn.requests.append((self.path, self.headers.get("Authorization", "")))
                if self.path in cdn.redirects:
                    self.send_response(302)
                    self.send_header("Location", cdn.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                content_type, payload = cdn.files.get(self.path, ("text/plain", b""))
                self.send_response(200 if self.path in cdn.files else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.serve(Handler)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"
