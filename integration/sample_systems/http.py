"""The HTTP plumbing the sample systems share: a threaded loopback server with runtime switches.

``POST /_control`` with a JSON object flips the switches of a running system (the names of
``Switches``, plus ``"reset": true``); ``GET /_control`` returns them and the request counts.
The control path is exempt from the switches, so a system that is "down" can be brought back.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

CONTROL_PATH = "/_control"
_SWITCH_TYPES = {"slow_seconds": float, "error_status": int, "down": bool, "rate_limit_retry_after": int}
SWITCH_NAMES = tuple(_SWITCH_TYPES)


@dataclass
class Switches:
    """How badly a system behaves right now.

    - ``slow_seconds``: wait this long before answering;
    - ``error_status``: answer every request with this status (a 5xx, or a SOAP server fault);
    - ``down``: drop every connection without an answer, like a crashed server;
    - ``rate_limit_retry_after``: answer 429 with this ``Retry-After`` (seconds).
    """

    slow_seconds: float = 0.0
    error_status: int | None = None
    down: bool = False
    rate_limit_retry_after: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def update(self, **changes: Any) -> None:
        with self.lock:
            if changes.pop("reset", False):
                self.slow_seconds, self.error_status, self.down, self.rate_limit_retry_after = 0.0, None, False, None
            for name, value in changes.items():
                if name not in SWITCH_NAMES:
                    raise ValueError(f"No switch named {name!r}.")
                setattr(self, name, _SWITCH_TYPES[name](value) if value is not None else None)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {name: getattr(self, name) for name in SWITCH_NAMES}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(payload).encode(), "application/json", dict(headers))


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    host: str

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


class SampleSystem:
    """A legacy system: answers ``Request``s; the server applies the switches first."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.switches = Switches()
        self.hits: Counter[str] = Counter()
        self.hits_lock = threading.Lock()
        self.stopping = threading.Event()

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def respond(self, request: Request) -> Reply | None:
        """``handle`` with the switches applied; ``None``: drop the connection without an answer."""
        state = self.switches.as_dict()
        if state["down"]:
            return None
        if state["slow_seconds"]:
            self.stopping.wait(state["slow_seconds"])
        if state["rate_limit_retry_after"] is not None:
            return self.rate_limited_reply(int(state["rate_limit_retry_after"]))
        if state["error_status"]:
            return self.error_reply(int(state["error_status"]))
        try:
            return self.handle(request)
        except Exception:
            logger.exception("%s failed on %s %s", self.name, request.method, request.path)
            return self.error_reply(500)

    def error_reply(self, status: int) -> Reply:
        """What this system sends when errors are switched on."""
        return Reply.json(status, {"error": "internal error", "status": status})

    def rate_limited_reply(self, retry_after: int) -> Reply:
        return Reply.json(429, {"error": "rate limit exceeded"}, **{"Retry-After": str(retry_after)})

    def count(self, name: str) -> int:
        with self.hits_lock:
            return self.hits[name]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write (and without Nagle's delay), as a real server sends them.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.server.system.name, format % args)

    def _serve(self) -> None:
        system = self.server.system
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query={name: values[-1] for name, values in parse_qs(parts.query).items()},
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            host=self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2]),
        )
        if request.path == CONTROL_PATH:
            reply = self._control(system, request)
        else:
            with system.hits_lock:
                system.hits[f"{request.method} {request.path}"] += 1
            answer = system.respond(request)
            if answer is None:
                # A crashed server: the connection closes with no answer at all.
                self.close_connection = True
                return
            reply = answer
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _control(self, system: SampleSystem, request: Request) -> Reply:
        if request.method == "POST":
            try:
                system.switches.update(**request.json())
            except (ValueError, TypeError) as error:
                return Reply.json(400, {"error": str(error)})
        with system.hits_lock:
            hits = dict(system.hits)
        return Reply.json(200, {"switches": system.switches.as_dict(), "hits": hits})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], system: SampleSystem) -> None:
        self.system = system
        super().__init__(address, _Handler)


class RunningServer:
    """A sample system served on ``host:port`` in a background thread."""

    def __init__(self, system: SampleSystem, host: str = "127.0.0.1", port: int = 0) -> None:
        self.system = system
        self.server = _Server((host, port), system)
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"sample-{system.name}", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.system.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
