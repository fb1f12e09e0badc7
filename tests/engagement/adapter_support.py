"""Helpers shared by the channel adapter and conversation API tests (not collected as tests)."""

from __future__ import annotations

import json
import time

from rest_framework.test import APIClient

from cea.accounts.services import api_token_create
from engagement.adapters.webhooks import webhook_signature
from engagement.context import store
from records.customers.services import customer_create


def isolate_redis(settings):
    """Give the test its own context-store key prefix on the shared Redis; remove its keys after."""
    settings.REDIS_PREFIX = f"cea-test-adapters-{time.monotonic_ns()}"
    yield
    client = store.client()
    for key in client.scan_iter(f"{settings.REDIS_PREFIX}:*"):
        client.delete(key)


def token_client(user, scopes=("conversations:read", "conversations:write")) -> APIClient:
    _, plaintext = api_token_create(user=user, name="tests", scopes=list(scopes), expires_at=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def make_customer(team=None, *, given_name: str = "Alice", family_name: str = "Smith", **fields):
    return customer_create(actor=None, given_name=given_name, family_name=family_name, team=team, **fields)


def signed_post(client: APIClient, source, payload, *, timestamp: int | None = None, secret: str | None = None):
    """POST ``payload`` to the source's webhook, signed as a provider signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = webhook_signature(secret=secret or source.secret, timestamp=stamp, body=body)
    return client.post(
        f"/api/v1/engagement/webhooks/{source.name}/",
        body,
        content_type="application/json",
        HTTP_X_CEA_TIMESTAMP=stamp,
        HTTP_X_CEA_SIGNATURE=signature,
    )


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the one error shape with ``status``; return its ``error`` object."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error
