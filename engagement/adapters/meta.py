"""What Meta's two APIs share (WhatsApp Cloud API, Messenger Send API): the Graph API, the webhook
subscription handshake and the webhooks' signature.

- Credentials (``credentials.py``): ``ACCESS_TOKEN`` (a system user's token, sent as a bearer token),
  ``APP_SECRET`` (the key of ``X-Hub-Signature-256`` on every webhook) and ``VERIFY_TOKEN`` (the
  token typed into the app's webhook settings, echoed in the subscription handshake).
- The handshake: Meta GETs the callback URL with ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge``; CEA answers the challenge as plain text when the token is the source's.
- Every POST is checked against ``X-Hub-Signature-256`` (``signatures.meta_signature_valid``)
  over the raw body, keyed with the app secret.
- Calls (``graph_post``): JSON with the access token as a bearer token. A refusal is Graph's error
  JSON, ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``; besides a 5xx
  and a 429, a throttling or downtime code (``GRAPH_RETRY_CODES``) is worth trying again, any other
  is final with Graph's code and message.
"""

from __future__ import annotations

import hmac

from django.conf import settings

from engagement.adapters.credentials import credential
from engagement.adapters.models import WebhookSource
from engagement.adapters.outbox import SendError
from engagement.adapters.provider_http import provider_post
from engagement.adapters.signatures import meta_signature_valid
from engagement.adapters.webhooks import SignatureRefused


def graph_url(path: str) -> str:
    """``CEA_META_GRAPH_URL`` (with its version) + ``path``."""
    return f"{settings.CEA_META_GRAPH_URL}/{path.lstrip('/')}"


def meta_auth_headers(source: WebhookSource) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential(source.name, 'ACCESS_TOKEN')}"}


def meta_subscription_challenge(source: WebhookSource, query) -> str | None:
    """The ``hub.challenge`` to echo when the handshake's mode and token are right, else ``None``."""
    token = credential(source.name, "VERIFY_TOKEN")
    given = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe" or not given or not hmac.compare_digest(given, token):
        return None
    return query.get("hub.challenge", "")


def meta_signature_check(source: WebhookSource, *, body: bytes, signature: str) -> None:
    """``SignatureRefused`` unless ``X-Hub-Signature-256`` is the app secret's over ``body``."""
    if not meta_signature_valid(app_secret=credential(source.name, "APP_SECRET"), body=body, signature=signature):
        raise SignatureRefused("The X-Hub-Signature-256 does not match the body.")


# Graph's error codes that say "later": 1 unknown (possibly downtime), 2 service unavailable,
# 4 / 17 / 32 / 613 the app's, the user's, the Page's and a custom rate limit (answered with a 400);
# WhatsApp's 80007 (the business account's rate limit), 130429 (the number's throughput) and
# 131056 (too many messages to one customer at once).
GRAPH_RETRY_CODES = frozenset({"1", "2", "4", "17", "32", "613", "80007", "130429", "131056"})


def graph_post(name: str, source: WebhookSource, path: str, body: dict) -> dict:
    """POST ``body`` as JSON to the Graph API's ``path`` with the source's token; Graph's answer.

    Raises ``provider_post``'s ``SendError`` (with Graph's code), retryable too for a code of
    ``GRAPH_RETRY_CODES``; ``MissingCredential`` when the access token is not set."""
    try:
        response = provider_post(name, graph_url(path), json=body, headers=meta_auth_headers(source))
    except SendError as error:
        if error.retryable or error.code not in GRAPH_RETRY_CODES:
            raise
        raise SendError(error.reason, retryable=True, code=error.code) from error
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise SendError(f"{name} accepted the request but its answer is not JSON.", retryable=False)
    return answer
