"""The client's IP address, for everything that limits or records per address (sign-in pauses, throttles).

``CEA_TRUSTED_PROXY_COUNT`` says how many reverse proxies this server sits behind. With 0 (no
proxy) the connection's address ``REMOTE_ADDR`` is the client, and ``X-Forwarded-For`` is the
client's own claim, ignored. With N, each proxy appended the address it received the request
from, so the entry N from the right was written by the outermost trusted proxy: that is the
client. Entries further left are the client's claim and are never used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent ``request``, as far as the trusted proxies tell.

    Falls back to ``REMOTE_ADDR`` when the proxies forwarded no readable address (a request
    that reached the server directly, or a malformed header). A header shorter than the
    number of proxies (a request that entered behind the outer one) gives its leftmost entry.
    """
    remote_addr = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "CEA_TRUSTED_PROXY_COUNT", 0)
    if not isinstance(proxies, int) or proxies < 0:
        raise ImproperlyConfigured(f"CEA_TRUSTED_PROXY_COUNT={proxies!r} must be a whole number of proxies (0: none).")
    if proxies == 0:
        return remote_addr
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if not forwarded or not forwarded[-1].strip():
        return remote_addr
    hop = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    return _address(hop) or remote_addr
