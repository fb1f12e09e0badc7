"""A REST order-management service: orders, shipments and address changes.

Authentication: an API key in ``X-API-Key``, or an OAuth2 bearer token from
``POST /oauth/token`` (client credentials, the client's id and secret in HTTP Basic or in the
form). Tokens expire after ``token_ttl`` seconds; ``revoke_tokens()`` forgets them all.

- ``GET /health``: no authentication;
- ``GET /api/v1/orders`` and ``GET /api/v1/shipments``: ``customer``, ``updated_since``
  (exclusive, ISO 8601), ``page_size`` (≤ 200) and ``cursor``; ordered by ``(updated_at, id)``.
  An answer is ``{"results": […], "next": url | null, "cursor": str | null}``: ``cursor`` names
  the position after the page's last item; passing it back later continues from there, so a
  client can keep it as its watermark;
- ``PUT /api/v1/customers/{customer_number}/address``: an address change, made once per
  ``Idempotency-Key`` (the same key again answers the first change).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from integration.sample_systems import seed
from integration.sample_systems.http import Reply, Request, SampleSystem

MAX_PAGE_SIZE = 200
RESOURCES = {"orders": "order_number", "shipments": "shipment_id"}


def encode_cursor(updated_at: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{updated_at}|{key}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    updated_at, key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
    return datetime.fromisoformat(updated_at), key


class OrderManagement(SampleSystem):
    name = "orders"

    def __init__(
        self,
        *,
        api_keys: set[str],
        clients: dict[str, str],
        people: list[seed.Person] | None = None,
        token_ttl: float = 3600,
    ) -> None:
        super().__init__()
        self.api_keys = set(api_keys)
        self.clients = dict(clients)
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {"orders": {}, "shipments": {}}
        self.customers: set[str] = set()
        self.address_changes: dict[str, dict[str, Any]] = {}
        for person in people if people is not None else seed.demo_people():
            self.customers.add(person.customer_number)
            orders, shipments = seed.orders_for(person)
            self.records["orders"].update((row["order_number"], row) for row in orders)
            self.records["shipments"].update((row["shipment_id"], row) for row in shipments)

    # --- Changing the data (tests and the demo) ------------------------------------------------

    def touch(self, resource: str, key: str, **changes: Any) -> dict[str, Any]:
        """Change a record now: its ``updated_at`` moves past every other record's."""
        with self.lock:
            rows = self.records[resource]
            latest = max((datetime.fromisoformat(row["updated_at"]) for row in rows.values()), default=None)
            now = datetime.now(UTC)
            if latest and now <= latest:
                now = latest + timedelta(microseconds=1)
            rows[key] = {**rows.get(key, {RESOURCES[resource]: key}), **changes, "updated_at": now.isoformat()}
            return dict(rows[key])

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # --- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path == "/health":
            return Reply.json(200, {"status": "ok"})
        if request.path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if not self._authenticated(request):
            return Reply.json(401, {"error": "unauthorised"}, **{"WWW-Authenticate": 'Bearer realm="orders"'})
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and parts[:2] == ["api", "v1"] and len(parts) == 3 and parts[2] in RESOURCES:
            return self._list(request, parts[2])
        if request.method == "PUT" and len(parts) == 5 and parts[:3] == ["api", "v1", "customers"]:
            return self._address_change(request, parts[3]) if parts[4] == "address" else Reply.json(404, {})
        return Reply.json(404, {"error": "not found"})

    def _token(self, request: Request) -> Reply:
        form = _form(request.body)
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return Reply.json(400, {"error": "invalid_request"})
        if form.get("grant_type") != "client_credentials":
            return Reply.json(400, {"error": "unsupported_grant_type"})
        expected = self.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, client_secret):
            return Reply.json(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
        return Reply.json(200, {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)})

    def _authenticated(self, request: Request) -> bool:
        key = request.headers.get("x-api-key")
        if key is not None:
            return any(secrets.compare_digest(key, known) for known in self.api_keys)
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            with self.lock:
                expiry = self.tokens.get(authorization[7:])
            return expiry is not None and expiry > time.monotonic()
        return False

    def _list(self, request: Request, resource: str) -> Reply:
        query = request.query
        try:
            page_size = min(int(query.get("page_size", 50)), MAX_PAGE_SIZE)
            since = datetime.fromisoformat(query["updated_since"]) if query.get("updated_since") else None
            after = decode_cursor(query["cursor"]) if query.get("cursor") else None
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return Reply.json(400, {"error": "bad query: page_size, updated_since or cursor"})
        if page_size < 1:
            return Reply.json(400, {"error": "page_size must be at least 1"})
        key_name = RESOURCES[resource]
        with self.lock:
            rows = [dict(row) for row in self.records[resource].values()]
        rows = [row for row in rows if not query.get("customer") or row.get("customer_number") == query["customer"]]
        ordered = sorted(rows, key=lambda row: (datetime.fromisoformat(row["updated_at"]), row[key_name]))
        if since is not None:
            ordered = [row for row in ordered if datetime.fromisoformat(row["updated_at"]) > since]
        if after is not None:
            ordered = [row for row in ordered if (datetime.fromisoformat(row["updated_at"]), row[key_name]) > after]
        page, more = ordered[:page_size], len(ordered) > page_size
        cursor = encode_cursor(page[-1]["updated_at"], page[-1][key_name]) if page else query.get("cursor")
        next_url = None
        if more:
            params = {name: value for name, value in query.items() if name != "cursor"} | {"cursor": cursor}
            next_url = f"http://{request.host}{request.path}?{urlencode(params)}"
        return Reply.json(200, {"results": page, "next": next_url, "cursor": cursor})

    def _address_change(self, request: Request, customer_number: str) -> Reply:
        key = request.headers.get("idempotency-key", "")
        if not key:
            return Reply.json(400, {"error": "the Idempotency-Key header is required"})
        if customer_number not in self.customers:
            return Reply.json(404, {"error": f"unknown customer {customer_number}"})
        try:
            address = request.json()
        except ValueError:
            return Reply.json(400, {"error": "the body is not JSON"})
        if not isinstance(address, dict) or not address.get("line1") or not address.get("postcode"):
            return Reply.json(422, {"error": "an address needs line1 and postcode"})
        with self.lock:
            if key in self.address_changes:
                return Reply.json(200, self.address_changes[key])
            change = {
                "change_id": f"ADR{len(self.address_changes) + 1:06d}",
                "customer_number": customer_number,
                "address": {name: address.get(name, "") for name in ("line1", "line2", "city", "postcode")},
                "status": "accepted",
            }
            self.address_changes[key] = change
        return Reply.json(201, change)


def _form(body: bytes) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}
