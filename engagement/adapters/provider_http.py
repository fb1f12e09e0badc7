"""One HTTP call to a provider's API, with its failures sorted into retryable or not (``SendError``).

Calls share one ``httpx.Client`` per process: its TLS context (loading the CA bundle took ~45 ms a
send, half of a reply's cost in bench/ingest.py) and its pooled keep-alive connections are made once.
A forked worker makes its own on first use (the parent's is dropped at fork: a socket must not be
shared between processes).
"""

from __future__ import annotations

import os
import threading

import httpx
from django.conf import settings

from engagement.adapters.outbox import SendError

# 408 Request Timeout, 425 Too Early, 429 Too Many Requests: the provider asks to try again later.
RETRYABLE_STATUS = {408, 425, 429}


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _shared_client() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client()
        return _client


def _forget_client_after_fork() -> None:
    global _client, _client_lock
    _client, _client_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_client_after_fork)


def provider_post(name: str, url: str, *, data: dict, auth: tuple[str, str] | None = None) -> httpx.Response:
    """POST the form ``data`` to ``url``; the response if it is a 2xx. A provider that cannot be reached
    (refused, no connection in time), answers 5xx or asks to slow down (429) raises a retryable
    ``SendError``; any other 4xx a permanent one, with the provider's own message (``error_text``).

    A request that reached the provider but got no answer (read timeout, connection dropped mid-way)
    is ambiguous: the provider may have accepted it, and sending again would text the customer twice.
    It raises a permanent ``SendError`` (code ``no_answer``) saying so: the agent sees it on the desk
    and decides (a status callback for it, if one comes, has no send id to match and is refused).
    """
    try:
        response = _shared_client().post(
            url, data=data, auth=auth or httpx.USE_CLIENT_DEFAULT, timeout=settings.CEA_PROVIDER_TIMEOUT_SECONDS
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise SendError(f"{name} could not be reached: {type(error).__name__}: {error}", retryable=True) from error
    except httpx.HTTPError as error:
        raise SendError(
            f"{name} did not answer ({type(error).__name__}); it may have accepted the message, so it is not "
            "sent again: check with the customer before resending",
            retryable=False,
            code="no_answer",
        ) from error
    if response.is_success:
        return response
    detail = error_text(response)
    retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUS
    raise SendError(
        f"{name} answered {response.status_code}" + (f": {detail}" if detail else ""),
        retryable=retryable,
        code=str(response.status_code),
    )


def error_text(response: httpx.Response) -> str:
    """The provider's explanation of an error: its JSON ``message``/``error-text``, else the text's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("message", "error-text", "detail", "title"):
            if isinstance(body.get(key), str):
                code = body.get("code")
                return f"{body[key]}" + (f" (code {code})" if code else "")
    return ""


def provider_get(name: str, url: str, *, auth: tuple[str, str] | None = None, max_bytes: int) -> tuple[bytes, str]:
    """GET ``url`` (following the provider's redirects to its file store); its content and
    ``Content-Type``. Read no further than ``max_bytes``: a larger body raises a permanent
    ``SendError`` (code ``too_large``), as does any failure (code ``unreachable`` or the status)."""
    try:
        with _shared_client().stream(
            "GET",
            url,
            auth=auth or httpx.USE_CLIENT_DEFAULT,
            timeout=settings.CEA_PROVIDER_TIMEOUT_SECONDS,
            follow_redirects=True,
        ) as response:
            if not response.is_success:
                raise SendError(
                    f"{name} answered {response.status_code}", retryable=False, code=str(response.status_code)
                )
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > max_bytes:
                    raise SendError(f"{name}'s file is over {max_bytes} bytes", retryable=False, code="too_large")
            return bytes(content), response.headers.get("Content-Type", "")
    except httpx.HTTPError as error:
        raise SendError(
            f"{name} could not be read: {type(error).__name__}", retryable=False, code="unreachable"
        ) from error
