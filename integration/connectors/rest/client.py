"""A REST/JSON back-end reached with httpx.

Settings (``Connector.settings``):

- ``base_url``; ``auth``: ``"api_key"`` (the secret sent in ``api_key_header``, default
  ``X-API-Key``), ``"oauth2"`` (client credentials: ``client_id`` and the secret posted to
  ``token_url``; the token is cached until shortly before it expires, and fetched again once
  when the back-end answers 401) or ``"none"``;
- ``resources``: ``[{"name", "path", "holding_kind", "customer_param"}]`` read in turn;
  ``mappings[name]`` maps each resource's fields to canonical holding fields;
- ``page_size`` (default 100), ``health_path`` (default ``/health``);
- ``write_backs``: ``{kind: {"method", "path"}}``; ``path`` may name payload fields
  (``{customer_external_id}``), the other fields are the JSON body; the write-back key is sent as ``Idempotency-Key``.

Lists answer ``{"results": [...], "next": url | null, "cursor": str}``; the watermark is a JSON
object of each resource's last ``cursor``, so a run resumes after the last page it loaded.

Failures: 429 and 5xx, timeouts and refused or dropped connections are retryable (429 and 503
with the back-end's ``Retry-After``); other 4xx are permanent. Secrets never appear in errors
or logs: messages name the method, path and status only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from integration.connectors.base import BaseConnector, ConnectorError, Page, register_kind
from integration.connectors.canonical import holding_item, json_safe
from integration.tls import tls_context

logger = logging.getLogger(__name__)

TOKEN_EARLY_SECONDS = 30  # refresh a token this long before it says it expires


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# OAuth2 tokens, shared by every connector object of the same configuration in this process
# (a sync run and the aggregation each make their own objects): (name, token URL, client) -> (token, expiry).
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


@register_kind
class RestConnector(BaseConnector):
    kind = "rest"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.base_url = str(self.setting("base_url", required=True)).rstrip("/")
        self.auth = self.setting("auth", "api_key")
        if self.auth not in ("api_key", "oauth2", "none"):
            raise ConnectorError(f"Connector {config.name}: unknown auth {self.auth!r}.", permanent=True)
        self.page_size = int(self.setting("page_size", 100))
        self._client: httpx.Client | None = None

    # --- HTTP ----------------------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url, timeout=self.timeout, follow_redirects=False, verify=tls_context()
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _token_key(self) -> tuple[str, str, str]:
        return (self.config.name, self.setting("token_url", "/oauth/token"), self.setting("client_id", ""))

    def _token(self, *, fresh: bool = False) -> str:
        key = self._token_key()
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and not fresh and cached[1] > time.monotonic():
            return cached[0]
        response = self._send(
            "POST",
            key[1],
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(key[2], self.secret()),
            authenticate=False,
        )
        try:
            body = response.json()
            token, lifetime = body["access_token"], float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise ConnectorError(f"{self.config.name}: the token endpoint's answer has no token.") from None
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + max(0.0, lifetime - TOKEN_EARLY_SECONDS))
        return token

    def _auth_headers(self, *, fresh_token: bool = False) -> dict[str, str]:
        if self.auth == "api_key":
            return {self.setting("api_key_header", "X-API-Key"): self.secret()}
        if self.auth == "oauth2":
            return {"Authorization": f"Bearer {self._token(fresh=fresh_token)}"}
        return {}

    def _send(self, method: str, url: str, *, authenticate: bool = True, **kwargs: Any) -> httpx.Response:
        """One request, with authentication; errors become ``ConnectorError`` (see the module)."""
        where = f"{self.config.name}: {method} {urlsplit(url).path or url}"
        headers = dict(kwargs.pop("headers", {}) or {})
        for attempt in (1, 2):
            if authenticate:
                headers.update(self._auth_headers(fresh_token=attempt == 2))
            try:
                response = self.client.request(method, url, headers=headers, **kwargs)
            except httpx.TimeoutException:
                raise ConnectorError(f"{where} timed out after {self.timeout:g} s.") from None
            except httpx.TransportError as error:
                raise ConnectorError(f"{where} failed: {type(error).__name__}.") from None
            # A token the back-end no longer takes (expired early, revoked): fetch one and try once more.
            if response.status_code == 401 and authenticate and self.auth == "oauth2" and attempt == 1:
                continue
            break
        status = response.status_code
        if status < 400:
            return response
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status == 429 or status >= 500:
            raise ConnectorError(f"{where} answered {status}.", retry_after=retry_after)
        if status in (401, 403):
            raise ConnectorError(f"{where} answered {status}: the credentials were refused.", permanent=True)
        raise ConnectorError(f"{where} answered {status}: {_reason(response)}", permanent=True)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(f"{self.config.name}: the answer is not JSON.", permanent=True) from None

    # --- The interface -------------------------------------------------------------------------

    def _resources(self) -> list[dict[str, Any]]:
        resources = self.setting("resources", required=True)
        if not isinstance(resources, list) or not all(
            isinstance(item, dict) and item.get("name") for item in resources
        ):
            raise ConnectorError(
                f"Connector {self.config.name}: 'resources' must be a list of objects with a name.", permanent=True
            )
        return resources

    def _pages(self, resource: Mapping[str, Any], params: dict[str, Any]) -> Iterator[tuple[list[dict], str | None]]:
        url: str | None = resource.get("path") or f"/{resource['name']}"
        query: dict[str, Any] | None = {"page_size": self.page_size, **params}
        while url:
            body = self._json(self._send("GET", url, params=query))
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise ConnectorError(f"{self.config.name}: a list answer has no 'results'.", permanent=True)
            yield body["results"], body.get("cursor")
            url, query = body.get("next"), None  # ``next`` carries its own query
            if url and urlsplit(url)[:2] != urlsplit(self.base_url)[:2]:
                # Credentials go to the configured back-end only, wherever its links point.
                raise ConnectorError(f"{self.config.name}: a page links to another host.", permanent=True)

    def fetch_since(self, watermark: str) -> Iterator[Page]:
        try:
            cursors: dict[str, str] = json.loads(watermark) if watermark else {}
        except ValueError:
            raise ConnectorError(
                f"{self.config.name}: the watermark {watermark!r} is not this connector's.", permanent=True
            ) from None
        mappings = self.config.mappings or {}
        for resource in self._resources():
            name = resource["name"]
            params = {"cursor": cursors[name]} if cursors.get(name) else {}
            for rows, cursor in self._pages(resource, params):
                items = [
                    holding_item(row, mappings.get(name, {}), holding_kind=resource.get("holding_kind", ""))
                    for row in rows
                ]
                if cursor:
                    cursors = {**cursors, name: cursor}
                yield Page(items=items, watermark=json.dumps(cursors, sort_keys=True, separators=(",", ":")))

    def fetch_customer(self, external_id: str) -> dict[str, Any]:
        mappings = self.config.mappings or {}
        holdings = []
        for resource in self._resources():
            params = {resource.get("customer_param", "customer"): external_id}
            for rows, _cursor in self._pages(resource, params):
                holdings.extend(
                    holding_item(
                        row, mappings.get(resource["name"], {}), holding_kind=resource.get("holding_kind", "")
                    ).fields
                    for row in rows
                )
        return {"system": self.config.system, "customer_external_id": external_id, "holdings": holdings}

    def write_back(self, kind: str, payload: Mapping[str, Any], key: str) -> dict[str, Any]:
        target = (self.setting("write_backs", {}) or {}).get(kind)
        if not target:
            raise ConnectorError(f"{self.config.name} takes no write-back of kind {kind!r}.", permanent=True)
        try:
            path = target["path"].format(**payload)
        except KeyError as missing:
            raise ConnectorError(
                f"{self.config.name}: the {kind} write-back needs {missing}.", permanent=True
            ) from None
        body = {name: value for name, value in payload.items() if f"{{{name}}}" not in target["path"]}
        response = self._send(
            target.get("method", "POST"), path, json=json_safe(body), headers={"Idempotency-Key": key}
        )
        answer = self._json(response) if response.content else {}
        return answer if isinstance(answer, dict) else {"answer": answer}

    def health(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            self._send("GET", self.setting("health_path", "/health"), authenticate=False)
        except ConnectorError as error:
            return {"ok": False, "error": error.message, "permanent": error.permanent, "seconds": _since(started)}
        return {"ok": True, "seconds": _since(started)}


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("error") if isinstance(body, dict) else None
    return str(message)[:200] if message else response.reason_phrase
