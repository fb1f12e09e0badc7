"""The client's address: REMOTE_ADDR, or the one the trusted proxies forwarded (cea.common.client_ip)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from cea.common.client_ip import client_ip, scope_client_ip


def _request(remote_addr: str, forwarded_for: str | None = None):
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **meta)


def test_without_a_proxy_the_connection_address_is_the_client(settings):
    settings.CEA_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("count", "forwarded_for", "expected"),
    [
        # One proxy: it appended the address it saw; anything left of it is the client's own claim.
        (1, "203.0.113.20", "203.0.113.20"),
        (1, "192.0.2.1, 203.0.113.20", "203.0.113.20"),
        # Two proxies: the outer one appended the client, the inner one the outer proxy.
        (2, "192.0.2.1,203.0.113.20, 10.0.0.5", "203.0.113.20"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Fewer entries than proxies (a request that skipped the outer proxy): the leftmost entry.
        (2, "203.0.113.20", "203.0.113.20"),
    ],
)
def test_behind_proxies_the_address_n_hops_from_the_right(settings, count, forwarded_for, expected):
    settings.CEA_TRUSTED_PROXY_COUNT = count
    assert client_ip(_request("10.0.0.1", forwarded_for)) == expected


@pytest.mark.parametrize("forwarded_for", [None, "", "not-an-address", "192.0.2.1, ", "unknown"])
def test_behind_a_proxy_a_missing_or_unreadable_entry_falls_back_to_the_connection(settings, forwarded_for):
    settings.CEA_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.1", forwarded_for)) == "10.0.0.1"


def test_a_negative_proxy_count_is_a_configuration_error(settings):
    settings.CEA_TRUSTED_PROXY_COUNT = -1
    with pytest.raises(ImproperlyConfigured, match="CEA_TRUSTED_PROXY_COUNT"):
        client_ip(_request("10.0.0.1"))


# --- An ASGI connection (the web chat widget's websocket) ----------------------------------------


def _scope(forwarded_for: str | None = None, peer: str | None = "10.0.0.5") -> dict:
    headers = [(b"host", b"cea.example")]
    if forwarded_for is not None:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    return {"type": "websocket", "headers": headers, "client": (peer, 51000) if peer else None}


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.5"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
        (2, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, not-an-ip", "10.0.0.5"),
        (1, None, "10.0.0.5"),
    ],
)
def test_a_websocket_client_is_read_the_same_way(settings, proxies, forwarded_for, expected):
    settings.CEA_TRUSTED_PROXY_COUNT = proxies
    assert scope_client_ip(_scope(forwarded_for)) == expected


def test_a_websocket_without_a_peer_address_is_unknown(settings):
    settings.CEA_TRUSTED_PROXY_COUNT = 0
    assert scope_client_ip(_scope(peer=None)) == "unknown"
