"""Loopback back-ends for the aggregation tests, and the small connector kind that calls them.

``Backend`` is a real HTTP server on 127.0.0.1 in a thread (``http.server``) holding customers'
records and holdings; switches make it ``slow`` (it answers only once released or after a long
wait), ``down`` (503), ``refusing`` (400, a permanent error) or ``rendezvous`` (it answers only
when every back-end sharing its ``barrier`` is being asked at the same moment: a proof of
parallel calls that needs no clock). ``LoopbackConnector`` (kind
``loopback``) asks it with httpx under the connector's timeout and turns failures into
``ConnectorError`` as every real connector does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from integration.connectors.base import BaseConnector, ConnectorError, register_kind
from integration.connectors.models import Connector
from records.holdings.models import SourceRecord

SLOW_SECONDS = 10.0


class Backend:
    """A legacy system on loopback: ``records[external_id] = {"holdings": [...]}``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: dict[str, dict[str, Any]] = {}
        self.mode = "up"  # up, slow, down, refusing, rendezvous
        self.barrier: threading.Barrier | None = None
        self.calls = 0
        self.released = threading.Event()
        self._lock = threading.Lock()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with backend._lock:
                    backend.calls += 1
                    mode = backend.mode
                if mode == "slow":
                    backend.released.wait(SLOW_SECONDS)
                if mode == "rendezvous":
                    try:
                        backend.barrier.wait(timeout=SLOW_SECONDS)
                    except threading.BrokenBarrierError:
                        self._answer(503, {"error": "asked alone"})
                        return
                external_id = self.path.rsplit("/", 1)[-1]
                if mode == "down":
                    self._answer(503, {"error": "maintenance window"})
                elif mode == "refusing":
                    self._answer(400, {"error": "customer number malformed"})
                elif external_id not in backend.records:
                    self._answer(404, {"error": "no such customer"})
                else:
                    self._answer(200, backend.records[external_id])

            def _answer(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout): nobody is listening
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name=f"backend-{name}", daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def set(self, mode: str) -> None:
        with self._lock:
            self.mode = mode

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@register_kind
class LoopbackConnector(BaseConnector):
    """``GET {base_url}/customers/{external_id}`` with the connector's timeout; the secret goes as ``?api_key=``."""

    kind = "loopback"

    def fetch_customer(self, external_id: str) -> dict[str, Any]:
        url = f"{self.setting('base_url', required=True)}/customers/{external_id}"
        params = {"api_key": self.secret()} if self.config.credential_env else {}
        try:
            response = httpx.get(url, params=params, timeout=self.timeout)
        except httpx.TimeoutException:
            raise ConnectorError(f"{self.config.name} timed out after {self.timeout:g} s.") from None
        except httpx.HTTPError as error:
            raise ConnectorError(f"{self.config.name} is unreachable: {error}") from None
        if response.status_code >= 500:
            raise ConnectorError(f"{self.config.name} answered {response.status_code} for {response.request.url}.")
        if response.status_code >= 400:
            raise ConnectorError(
                f"{self.config.name} refused: {response.json().get('error')} ({response.status_code}).", permanent=True
            )
        return response.json()


def connector_to(backend: Backend, *, system: str | None = None, **fields) -> Connector:
    fields.setdefault("timeout_seconds", 2.0)
    fields.setdefault("cache_seconds", 0)
    return Connector.objects.create(
        name=backend.name,
        label=fields.pop("label", backend.name.title()),
        kind="loopback",
        system=system or backend.name,
        settings={"base_url": backend.url},
        **fields,
    )


def link(customer, system: str, external_id: str) -> SourceRecord:
    return SourceRecord.objects.create(customer=customer, system=system, external_id=external_id)


def holding(kind: str, external_id: str, **fields) -> dict[str, Any]:
    return {"kind": kind, "external_id": external_id, **fields}


# Customer B-1's current account at billing (the ``billing`` fixture of ``conftest.py``).
BALANCE = holding("balance", "ACC-1", name="Current account", amount="42.10", currency="GBP")
