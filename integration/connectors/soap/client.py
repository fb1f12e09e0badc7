"""A SOAP back-end reached with zeep from its WSDL.

Settings (``Connector.settings``):

- ``wsdl``: the WSDL's URL; ``username``: for HTTP Basic authentication, the password being the
  connector's secret (no ``username``: no authentication);
- ``changes_operation`` (``(cursor?, maxResults) -> {items_field: [...], cursor, more}``),
  ``customer_operation`` (``(customerNumber) -> [...]``) and ``health_operation``;
  ``items_field`` (default ``holding``), ``page_size`` (default 100);
- ``write_backs``: ``{kind: {"operation", "key_field"}}``: the payload is the operation's
  arguments, and the write-back key goes in ``key_field`` (the service's idempotency key).

``mappings["holding"]`` maps an item's fields to canonical holding fields. The watermark is the
service's cursor after the last page loaded.

Failures: a ``soap:Client`` fault is permanent (the service rejects the request), any other
fault is retryable; HTTP 401/403 are permanent, other HTTP errors, timeouts and connection
failures retryable. Messages never carry the password.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from zeep import Client
from zeep.cache import InMemoryCache
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.helpers import serialize_object
from zeep.transports import Transport

from integration.connectors.base import BaseConnector, ConnectorError, Page, register_kind
from integration.connectors.canonical import holding_item, json_safe

logger = logging.getLogger(__name__)

# WSDLs and their schemas, read once a while per process rather than by every connector object.
_wsdl_cache = InMemoryCache(timeout=300)


@register_kind
class SoapConnector(BaseConnector):
    kind = "soap"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.wsdl = self.setting("wsdl", required=True)
        self.page_size = int(self.setting("page_size", 100))
        self.items_field = self.setting("items_field", "holding")
        self._client: Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Client:
        """The zeep client, made (and the WSDL read) on first use."""
        with self._lock:
            if self._client is None:
                session = requests.Session()
                username = self.setting("username", "")
                if username:
                    session.auth = (username, self.secret())
                transport = Transport(
                    session=session, cache=_wsdl_cache, timeout=self.timeout, operation_timeout=self.timeout
                )
                self._client = self._guarded("reading the WSDL", lambda: Client(self.wsdl, transport=transport))
            return self._client

    def _guarded(self, what: str, call) -> Any:
        where = f"{self.config.name}: {what}"
        try:
            return call()
        except Fault as fault:
            code = str(fault.code or "")
            permanent = code.rsplit(":", 1)[-1].rsplit("}", 1)[-1] == "Client"
            raise ConnectorError(
                f"{where}: the service answered a fault: {fault.message}", permanent=permanent
            ) from None
        except TransportError as error:
            status = error.status_code
            if status in (401, 403):
                raise ConnectorError(f"{where}: HTTP {status}: the credentials were refused.", permanent=True) from None
            if status == 404:
                raise ConnectorError(f"{where}: HTTP 404: no such service.", permanent=True) from None
            raise ConnectorError(f"{where}: HTTP {status}.") from None
        except requests.Timeout:
            raise ConnectorError(f"{where} timed out after {self.timeout:g} s.") from None
        except requests.RequestException as error:
            raise ConnectorError(f"{where} failed: {type(error).__name__}.") from None
        except ZeepError as error:
            raise ConnectorError(
                f"{where}: the answer does not match the WSDL ({type(error).__name__}).", permanent=True
            ) from None

    def _call(self, operation: str, **arguments: Any) -> Any:
        client = self.client
        try:
            method = client.service[operation]
        except (AttributeError, KeyError):
            raise ConnectorError(
                f"{self.config.name}: the WSDL has no operation {operation!r}.", permanent=True
            ) from None
        try:
            answer = self._guarded(operation, lambda: method(**arguments))
        except TypeError:  # arguments the operation does not take
            raise ConnectorError(
                f"{self.config.name}: {operation} does not take the arguments given.", permanent=True
            ) from None
        return serialize_object(answer, dict)

    def _items(self, answer: Any) -> list[dict[str, Any]]:
        if answer is None:
            return []
        if isinstance(answer, list):
            return answer
        if isinstance(answer, dict) and self.items_field in answer:
            return answer[self.items_field] or []
        return [answer]

    def _mapping(self) -> dict[str, str]:
        return (self.config.mappings or {}).get("holding", {})

    # --- The interface -------------------------------------------------------------------------

    def fetch_since(self, watermark: str) -> Iterator[Page]:
        operation = self.setting("changes_operation", required=True)
        cursor = watermark or None
        while True:
            answer = self._call(operation, cursor=cursor, maxResults=self.page_size)
            if not isinstance(answer, dict):
                raise ConnectorError(f"{self.config.name}: {operation} answered no page.", permanent=True)
            items = [holding_item(row, self._mapping()) for row in self._items(answer)]
            cursor = answer.get("cursor") or cursor
            yield Page(items=items, watermark=cursor or "")
            if not answer.get("more") or not items:
                return

    def fetch_customer(self, external_id: str) -> dict[str, Any]:
        operation = self.setting("customer_operation", required=True)
        answer = self._call(operation, customerNumber=external_id)
        holdings = [holding_item(row, self._mapping()).fields for row in self._items(answer)]
        return {"system": self.config.system, "customer_external_id": external_id, "holdings": holdings}

    def write_back(self, kind: str, payload: Mapping[str, Any], key: str) -> dict[str, Any]:
        target = (self.setting("write_backs", {}) or {}).get(kind)
        if not target:
            raise ConnectorError(f"{self.config.name} takes no write-back of kind {kind!r}.", permanent=True)
        arguments = {**json_safe(dict(payload)), target.get("key_field", "idempotencyKey"): key}
        answer = self._call(target["operation"], **arguments)
        items = self._items(answer)
        if len(items) == 1 and isinstance(items[0], dict):
            return {"holding": holding_item(items[0], self._mapping()).fields, "raw": json_safe(items[0])}
        return {"answer": json_safe(answer)}

    def health(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            self._call(self.setting("health_operation", "Ping"))
        except ConnectorError as error:
            return {"ok": False, "error": error.message, "permanent": error.permanent, "seconds": _since(started)}
        return {"ok": True, "seconds": _since(started)}


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)
