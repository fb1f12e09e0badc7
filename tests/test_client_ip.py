"""The client's address of an ASGI connection: X-Forwarded-For only as far as trusted proxies vouch for it."""

from __future__ import annotations

import pytest

from cea.common.client_ip import client_ip


def scope(forwarded_for: str | None = None, peer: str | None = "10.0.0.5") -> dict:
    headers = [(b"host", b"cea.example")]
    if forwarded_for is not None:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    return {"type": "websocket", "headers": headers, "client": (peer, 51000) if peer else None}


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        # No trusted proxy: the header is whatever the client wrote, never read.
        (0, "203.0.113.9", "10.0.0.5"),
        # One proxy appends the address it saw: the last entry; what the client wrote before it is ignored.
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        # Two proxies: the second entry from the right.
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        # IPv6, with spaces around it.
        (1, " 2001:db8::1 ", "2001:db8::1"),
        # Fewer entries than proxies, or not an address: the connection's own address.
        (2, "203.0.113.9", "10.0.0.5"),
        (1, "198.51.100.1, not-an-ip", "10.0.0.5"),
        (1, None, "10.0.0.5"),
    ],
)
def test_the_client_is_read_as_many_hops_from_the_right_as_there_are_trusted_proxies(
    settings, proxies, forwarded_for, expected
):
    # Given
    settings.CEA_TRUSTED_PROXY_COUNT = proxies
    # When / Then
    assert client_ip(scope(forwarded_for)) == expected


def test_without_a_peer_address_the_client_is_unknown(settings):
    settings.CEA_TRUSTED_PROXY_COUNT = 0
    assert client_ip(scope(peer=None)) == "unknown"
