"""Where webhooks may go: public addresses only, so a subscription cannot reach inside the network (SSRF).

A subscription's URL is checked when it is saved (``webhook_target_problem``), and again on every
attempt by the transport that connects (``WebhookTransport``): the host is resolved once, every
address it resolves to must be public, and the connection is made to one of those very addresses.
A name that resolved to a public address when saved and to an internal one later (DNS
rebinding) is therefore refused at delivery. Redirects are never followed.

``allow_private`` (``CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS``) turns the check off, for receivers on
loopback or the local network in development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from urllib.parse import urlsplit

import httpcore
import httpx

from integration.tls import tls_context

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookTargetRefused(Exception):
    """The webhook's host is, or resolves to, an address that is not public: nothing was sent."""


def address_kind(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address (``"loopback"``, ``"private"``, …); ``None`` if it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    # Shared address space (100.64/10), documentation ranges and the like.
    return None if address.is_global else "non-global"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order (an IP literal is itself).

    Raises ``socket.gaierror`` when the name does not resolve.
    """
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found))


def refusal(host: str, addresses: typing.Iterable[IPAddress]) -> str | None:
    """The reason to refuse ``host`` if any of its addresses is not public; ``None`` if all are."""
    for address in addresses:
        kind = address_kind(address)
        if kind is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            return f"{shown} is not a public address ({kind}); webhooks are sent to public addresses only."
    return None


def webhook_target_problem(url: str) -> str | None:
    """Why a subscription may not send to ``url``'s host; ``None`` when it may (as far as is known now).

    A name that does not resolve now is let through: it is resolved and checked on every attempt.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError, ValueError):
        return None
    return refusal(host, addresses)


class _PublicAddressBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to addresses that passed the check."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(str(error)) from error
        reason = None if self.allow_private else refusal(host, addresses)
        if reason:
            raise WebhookTargetRefused(reason)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")


class WebhookTransport(httpx.HTTPTransport):
    """httpx's transport, connecting through ``_PublicAddressBackend`` (TLS still verifies the host name)."""

    def __init__(self, *, allow_private: bool) -> None:
        ssl_context = tls_context()
        super().__init__(verify=ssl_context)
        # httpx takes no network backend; the httpcore pool under it does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=_PublicAddressBackend(allow_private=allow_private)
        )
