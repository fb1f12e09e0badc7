"""One HTTP call to a provider's API, with its failures sorted into retryable or not (``SendError``).

Calls share one ``httpx.Client`` per process: its TLS context (loading the CA bundle took ~45 ms a
send, half of a reply's cost in bench/ingest.py) and its pooled keep-alive connections are made once.
A forked worker makes its own on first use (the parent's is dropped at fork: a socket must not be
shared between processes).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

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


def provider_client() -> httpx.Client:
    """The process's shared client, for a call ``provider_post`` does not make (a download's stream)."""
    return _shared_client()


def provider_post(
    name: str,
    url: str,
    *,
    data: dict | None = None,
    auth: tuple[str, str] | None = None,
    json: dict | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST the form ``data`` (or the JSON ``json``) to ``url``; the response if it is a 2xx. A provider
    that cannot be reached (refused, no connection in time), answers 5xx or asks to slow down (429)
    raises a retryable ``SendError``; any other 4xx a permanent one, with the provider's own message
    (``error_text``) and code (a Graph error's ``code``, else the HTTP status).

    A request that reached the provider but got no answer (read timeout, connection dropped mid-way)
    is ambiguous: the provider may have accepted it, and sending again would text the customer twice.
    It raises a permanent ``SendError`` (code ``no_answer``) saying so: the agent sees it on the desk
    and decides (a status callback for it, if one comes, has no send id to match and is refused).
    """
    response = provider_call(name, url, data=data, json=json, headers=headers, auth=auth)
    return _success_or_send_error(name, response)


def provider_call(
    name: str,
    url: str,
    *,
    data: dict | None = None,
    json: dict | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """POST ``data`` (a form), ``json`` or ``content`` (raw bytes) to ``url``; the provider's response,
    whatever its status (the caller reads the provider's own errors: ``provider_refusal``). Raises
    ``SendError`` only for no answer: retryable when the provider could not be reached, permanent
    (``no_answer``) when it may have taken the message (see ``provider_post``). ``client`` replaces
    the shared one (Web Push's, which connects to public addresses only)."""
    try:
        return (client or _shared_client()).post(
            url,
            data=data,
            json=json,
            content=content,
            headers=headers,
            auth=auth or httpx.USE_CLIENT_DEFAULT,
            timeout=settings.CEA_PROVIDER_TIMEOUT_SECONDS,
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


def provider_get(name: str, url: str, *, headers: dict[str, str] | None = None, params=None) -> httpx.Response:
    """GET ``url`` (a provider's resource: a media's URL, a list of templates); the response if it is
    a 2xx, else a ``SendError`` sorted as ``provider_post``'s, except that a GET that got no answer
    is worth trying again (reading twice changes nothing)."""
    try:
        response = _shared_client().get(
            url, headers=headers, params=params, timeout=settings.CEA_PROVIDER_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as error:
        raise SendError(f"{name} could not be reached: {type(error).__name__}: {error}", retryable=True) from error
    return _success_or_send_error(name, response)


def _success_or_send_error(name: str, response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    raise provider_refusal(name, response, error_text(response), code=graph_error_code(response))


def provider_refusal(name: str, response: httpx.Response, detail: str, *, code: str = "") -> SendError:
    """The ``SendError`` for a provider's non-2xx ``response``: retryable for a 5xx or a "try again
    later" (429 …), permanent otherwise; ``code`` the provider's error code, else the HTTP status."""
    retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUS
    return SendError(
        f"{name} answered {response.status_code}" + (f": {detail}" if detail else ""),
        retryable=retryable,
        code=code or str(response.status_code),
    )


def graph_error_code(response: httpx.Response) -> str:
    """The code of a Graph API error (Meta's ``{"error": {"message", "code", …}}``), else ``""``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error["code"]) if isinstance(error, dict) and error.get("code") is not None else ""


def error_text(response: httpx.Response) -> str:
    """The provider's explanation of an error: its JSON ``message``/``error-text``, else the text's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]  # Meta's Graph API nests its error
    if isinstance(body, dict):
        for key in ("message", "error-text", "detail", "title"):
            if isinstance(body.get(key), str):
                code = body.get("code")
                return f"{body[key]}" + (f" (code {code})" if code else "")
    return ""


# --- Files a provider serves (an inbound message's media) -----------------------------------------


class DownloadRefused(Exception):
    """A provider's file that is not kept: unreachable, refused, from a host not allowed, over the
    size limit or failing the files' checks (``code``); ``retryable`` when the provider was
    unreachable or answered "later" (5xx, 429)."""

    def __init__(self, reason: str, *, code: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Download:
    """A file fetched from a provider: its bytes, its declared type (without parameters) and its
    name (the ``Content-Disposition``'s, else the URL path's last part; ``""`` when neither has one)."""

    content: bytes
    content_type: str
    filename: str


# The most redirects a download follows (each to a host that is allowed).
MAX_REDIRECTS = 5


def host_allowed(url: str, hosts: Collection[str]) -> bool:
    """Whether ``url`` is http(s) on one of ``hosts`` or a subdomain of one (``fbcdn.net`` allows
    ``scontent.xx.fbcdn.net``, not ``evilfbcdn.net``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        return False
    return any(host == allowed or host.endswith("." + allowed) for allowed in hosts if allowed)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def provider_download(
    url: str,
    *,
    max_bytes: int,
    hosts: Collection[str],
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Download:
    """GET ``url``, reading at most ``max_bytes``, following up to ``MAX_REDIRECTS`` redirects (as
    CDNs answer) by hand: each URL, the first and every redirect's, must be on ``hosts``
    (``host_allowed``), so a webhook cannot make CEA fetch an inner address. ``headers`` and
    ``auth`` (a bearer token, basic auth) go only to the first URL's origin, never after a redirect
    to another.

    ``DownloadRefused`` with code ``host_not_allowed``, ``too_many_redirects``, ``unreachable`` (no
    connection, no answer), ``refused`` (not a 2xx) or ``too_large`` (a declared or actual size over
    ``max_bytes``: the rest is not read).
    """
    if urlsplit(url).scheme not in ("https", "http"):
        raise DownloadRefused("The file's URL is not http(s).", code="refused")
    origin = _origin(url)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if not host_allowed(url, hosts):
                host = urlsplit(url).hostname or url[:100]
                raise DownloadRefused(
                    f"The file's host {host} is not one files are fetched from.", code="host_not_allowed"
                )
            same_origin = _origin(url) == origin
            with _shared_client().stream(
                "GET",
                url,
                headers=headers if same_origin else None,
                auth=(auth if same_origin else None) or httpx.USE_CLIENT_DEFAULT,
                follow_redirects=False,
                timeout=settings.CEA_PROVIDER_TIMEOUT_SECONDS,
            ) as response:
                if response.is_redirect:
                    url = str(response.url.join(response.headers.get("Location", "")))
                    continue
                return _read(response, max_bytes)
    except httpx.HTTPError as error:
        raise DownloadRefused(
            f"The file could not be fetched ({type(error).__name__}).", code="unreachable", retryable=True
        ) from error
    raise DownloadRefused(f"The file's URL redirected more than {MAX_REDIRECTS} times.", code="too_many_redirects")


def _read(response: httpx.Response, max_bytes: int) -> Download:
    if not response.is_success:
        raise DownloadRefused(
            f"The file's URL answered {response.status_code}.",
            code="refused",
            retryable=response.status_code >= 500 or response.status_code in RETRYABLE_STATUS,
        )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DownloadRefused(f"The file is larger than {max_bytes} bytes.", code="too_large")
    content = bytearray()
    for chunk in response.iter_bytes():
        content += chunk
        if len(content) > max_bytes:
            raise DownloadRefused(f"The file is larger than {max_bytes} bytes.", code="too_large")
    headers_of = EmailMessage()
    headers_of["Content-Disposition"] = response.headers.get("Content-Disposition", "")
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    filename = headers_of.get_filename() or PurePosixPath(unquote(urlsplit(str(response.url)).path)).name
    return Download(content=bytes(content), content_type=content_type or "application/octet-stream", filename=filename)
