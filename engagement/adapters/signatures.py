"""Providers' own webhook signatures, checked before a body is read (``webhooks.py`` has CEA's own).

Twilio (``X-Twilio-Signature``): the base64 HMAC-SHA1, keyed with the account's auth token, of
the full URL the provider requested, followed — for a form-encoded POST — by each parameter's
name and value, sorted by name (a name sent twice contributes each of its values, sorted). The
URL is the one the provider was configured with, so behind a proxy it must be rebuilt from the
public scheme and host (``SECURE_PROXY_SSL_HEADER``, ``USE_X_FORWARDED_HOST``).

Meta (``X-Hub-Signature-256``, WhatsApp Cloud API and Messenger): ``sha256=`` + the hex
HMAC-SHA256 of the raw body, keyed with the app secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def twilio_signature(*, auth_token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The ``X-Twilio-Signature`` a Twilio request to ``url`` with form ``params`` carries."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(*, auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str) -> bool:
    expected = twilio_signature(auth_token=auth_token, url=url, params=params)
    return bool(signature) and hmac.compare_digest(expected.encode(), signature.strip().encode())


def meta_signature(*, app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` Meta's webhooks carry."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def meta_signature_valid(*, app_secret: str, body: bytes, signature: str) -> bool:
    expected = meta_signature(app_secret=app_secret, body=body)
    return bool(signature) and hmac.compare_digest(expected.encode(), signature.strip().encode())
