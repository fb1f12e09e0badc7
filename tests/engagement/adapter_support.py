"""Helpers shared by the channel adapter and conversation API tests (not collected as tests)."""

from __future__ import annotations

import json
import time

from rest_framework.test import APIClient

from engagement.adapters.webhooks import webhook_signature
from tests.support import assert_error, make_customer, session_client, token_client
from tests.support import isolated_redis as isolate_redis


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


# Shared helpers, re-exported for the tests that import them from here.
__all__ = ["assert_error", "isolate_redis", "make_customer", "session_client", "signed_post", "token_client"]


def reply(agent, conversation, body: str, capture, *, execute: bool = True):
    """The agent's reply in ``conversation``, its on-commit work (the provider's send) run when ``execute``."""
    from engagement.conversations.replies import conversation_reply

    with capture(execute=execute):
        message, _ = conversation_reply(actor=agent, conversation=conversation, body=body)
    message.refresh_from_db()
    return message
