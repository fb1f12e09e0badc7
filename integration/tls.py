"""The TLS context every outbound HTTPS call of the integration layer shares (connectors, webhooks)."""

from __future__ import annotations

import functools
import ssl

import certifi


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one (reading the CA bundle) is ~20 ms of CPU, which a
    new client per call (the aggregated view, each webhook delivery) would pay every time."""
    return ssl.create_default_context(cafile=certifi.where())
