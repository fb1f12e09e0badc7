"""Real HTTP servers on loopback for the webhook and outbox tests (not collected as tests).

``WebhookReceiver`` is a subscriber's endpoint: it checks each request's signature as a
receiver would, records it, and answers as told (200, 500, 429 with Retry-After, 410, or hangs
past the client's timeout). ``LegacyBackend`` is a legacy system taking write-backs, idempotent
by the ``Idempotency-Key`` header, which can be down (not listening) and come back on its port.
``OtherConnection`` holds a transaction open on a second database connection (another worker).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection, transaction

DEADLINE = 10  # seconds a step may take before a test fails rather than hangs
WEBHOOK_SECRET = "test-signing-secret-0123456789"  # what the tests' subscriptions sign with


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int = 200
    body: str = '{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class _Server:
    """A threading HTTP server on 127.0.0.1 calling ``self.handle(handler)`` for every POST."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.answers: deque[Answer] = deque()
        self.release = threading.Event()  # lets hanging handlers go at the end

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.handle(self)

            def log_message(self, *args) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.release = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests so, in order (then normally)."""
        self.answers.extend(answers)

    @staticmethod
    def read_body(handler: BaseHTTPRequestHandler) -> bytes:
        return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        raw = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)


class WebhookReceiver(_Server):
    def __init__(self, secret: str = "") -> None:
        super().__init__()
        self.secret = secret
        self.received: list[Received] = []
        self.answers: deque[Answer] = deque()  # answered in order; then 200
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = self.read_body(handler)
        headers = {name: value for name, value in handler.headers.items()}
        timestamp = headers.get("X-CEA-Timestamp", "")
        valid = bool(self.secret) and hmac.compare_digest(
            headers.get("X-CEA-Signature", ""), expected_signature(self.secret, timestamp, body)
        )
        with self._lock:
            self.received.append(Received(handler.path, headers, body, valid))
            answer = self.answers.popleft() if self.answers else Answer()
        if answer.hang:
            self.release.wait(10)
            return
        self.answer(handler, answer.status, answer.body, answer.headers)


class LegacyBackend(_Server):
    """POST /writebacks/<kind> with ``Idempotency-Key``: 201 the first time, 200 with the same reference after."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.applied: dict[str, dict] = {}  # key → what was written
        self.requests = 0
        self.answers: deque[Answer] = deque()
        self._lock = threading.Lock()

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = json.loads(self.read_body(handler) or b"{}")
        key = handler.headers.get("Idempotency-Key", "")
        with self._lock:
            self.requests += 1
            answer = self.answers.popleft() if self.answers else None
            if answer is None:
                first = key not in self.applied
                if first:
                    self.applied[key] = {"kind": handler.path.rsplit("/", 1)[-1], **body}
                reference = f"WB-{list(self.applied).index(key) + 1:05d}"
        if answer is not None:
            self.answer(handler, answer.status, answer.body, answer.headers)
            return
        self.answer(handler, 201 if first else 200, json.dumps({"reference": reference}))


class OtherConnection:
    """Runs ``work`` in a transaction on another thread's connection and holds it open until ``finish``."""

    def __init__(self, work: Callable[[], object]) -> None:
        self._work = work
        self.ready = threading.Event()
        self._finish = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.result = self._work()
                self.ready.set()
                self._finish.wait(DEADLINE)
        except BaseException as error:
            self.error = error
        finally:
            self.ready.set()
            connection.close()

    def __enter__(self) -> OtherConnection:
        self._thread.start()
        assert self.ready.wait(DEADLINE), "the other connection did not start"
        if self.error:
            raise self.error
        return self

    def finish(self) -> None:
        self._finish.set()
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive()
        if self.error:
            raise self.error

    def __exit__(self, *exc) -> None:
        self.finish()
