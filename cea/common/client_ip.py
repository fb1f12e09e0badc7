"""The client's address, for everything that limits or records per address (sign-in pauses,
API throttles, the web chat widget's limits), read the one way the platform trusts.

``CEA_TRUSTED_PROXY_COUNT`` says how many reverse proxies this server sits behind. With 0 (no
proxy, the default) the connection's own address is the client, and ``X-Forwarded-For`` is the
client's own claim, ignored. With N, each proxy appended the address it received the request
from, so the entry N from the right was written by the outermost trusted proxy: that is the
client. Entries further left are the client's claim and are never used. A header shorter than N
(a request that entered behind the outer proxy) gives its leftmost entry, which a trusted proxy
wrote; a missing or unreadable entry falls back to the connection's address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

UNKNOWN = "unknown"


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _trusted_proxies() -> int:
    proxies = getattr(settings, "CEA_TRUSTED_PROXY_COUNT", 0)
    if not isinstance(proxies, int) or proxies < 0:
        raise ImproperlyConfigured(f"CEA_TRUSTED_PROXY_COUNT={proxies!r} must be a whole number of proxies (0: none).")
    return proxies


def forwarded_client_ip(forwarded_for: str, *, peer: str | None, trusted_proxies: int) -> str | None:
    """The client's address from the ``X-Forwarded-For`` value and the connection's address ``peer``."""
    if trusted_proxies == 0:
        return peer
    forwarded = forwarded_for.split(",")
    if not forwarded[-1].strip():
        return peer
    hop = forwarded[-trusted_proxies] if len(forwarded) >= trusted_proxies else forwarded[0]
    return _address(hop) or peer


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent the HTTP ``request`` (django-axes' and the throttles' callable)."""
    return forwarded_client_ip(
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        peer=request.META.get("REMOTE_ADDR") or None,
        trusted_proxies=_trusted_proxies(),
    )


def scope_client_ip(scope: dict) -> str:
    """The client's address of an ASGI connection (websocket or HTTP scope); ``"unknown"`` if none."""
    forwarded_for = ", ".join(
        value.decode("latin-1") for name, value in scope.get("headers", ()) if name.lower() == b"x-forwarded-for"
    )
    peer = (scope.get("client") or (None,))[0]
    return forwarded_client_ip(forwarded_for, peer=peer, trusted_proxies=_trusted_proxies()) or UNKNOWN
