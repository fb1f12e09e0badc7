"""What Meta's two APIs share (WhatsApp Cloud API, Messenger Send API): the Graph API, the webhook
subscription handshake and the webhooks' signature.

- Credentials (``credentials.py``): ``ACCESS_TOKEN`` (a system user's token, sent as a bearer token),
  ``APP_SECRET`` (the key of ``X-Hub-Signature-256`` on every webhook) and ``VERIFY_TOKEN`` (the
  token typed into the app's webhook settings, echoed in the subscription handshake).
- The handshake: Meta GETs the callback URL with ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge``; CEA answers the challenge as plain text when the token is the source's.
- Every POST is checked against ``X-Hub-Signature-256`` (``signatures.meta_signature_valid``)
  over the raw body, keyed with the app secret.
"""

from __future__ import annotations

import hmac

from django.conf import settings

from engagement.adapters.credentials import credential
from engagement.adapters.models import WebhookSource
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
