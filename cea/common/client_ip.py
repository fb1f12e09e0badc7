"""The client's address, read the one way the platform trusts: ``X-Forwarded-For`` only as far as
``CEA_TRUSTED_PROXY_COUNT`` proxies vouch for it.

Each proxy appends the address it received the request from, so with ``n`` trusted proxies the
client is the ``n``-th entry from the right; anything further left was written by the client and
proves nothing. Without trusted proxies (the default) the header is ignored and the connection's
own address is the client. A header with fewer entries than proxies, or an entry that is not an
address, falls back to the connection's address too (then every such client shares one limit,
which errs on the safe side).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


def forwarded_client_ip(forwarded_for: str, *, peer: str | None, trusted_proxies: int) -> str:
    """The client's address given the ``X-Forwarded-For`` value, the peer's address and the proxy count."""
    if trusted_proxies > 0 and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if len(hops) >= trusted_proxies:
            candidate = hops[-trusted_proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return peer or UNKNOWN


def client_ip(scope: dict) -> str:
    """The client's address of an ASGI connection (websocket or HTTP scope); ``"unknown"`` if none."""
    forwarded_for = ", ".join(
        value.decode("latin-1") for name, value in scope.get("headers", ()) if name.lower() == b"x-forwarded-for"
    )
    peer = (scope.get("client") or (None,))[0]
    return forwarded_client_ip(forwarded_for, peer=peer, trusted_proxies=settings.CEA_TRUSTED_PROXY_COUNT)
