"""The hard cap on request bodies (``CEA_MAX_REQUEST_BYTES``): refused with 413 before they are read.

Under ASGI, Django reads a request's whole body (into a temporary file) before any middleware
runs, so the cap sits in front of Django: ``RequestBodyLimit`` wraps the HTTP application
(``cea/asgi.py``). A declared ``Content-Length`` over the cap is answered at once, unread; a body
streamed without one is counted as it arrives and answered once it passes the cap (Django is told
the client went away and answers nothing). ``RequestBodyLimitMiddleware`` makes the same check of
``Content-Length`` inside Django, for WSGI and the test client.

The answer is the one error shape under ``/api/`` and the error page elsewhere.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from cea.common.api import API_PATH_PREFIX
from cea.common.errors import PayloadTooLarge


def too_large_response(path: str, limit: int) -> HttpResponse:
    """413 for a body over ``limit``: JSON under ``/api/``, the error page elsewhere."""
    error = PayloadTooLarge(limit=limit)
    if path.startswith(API_PATH_PREFIX):
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    return HttpResponse(render_to_string("errors/page.html", {"error": error}), status=error.status_code)


def _declared_length(value: str | bytes | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None  # malformed: the server or Django refuses it


class RequestBodyLimitMiddleware:
    """Django middleware: a request whose ``Content-Length`` is over the cap is refused unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.CEA_MAX_REQUEST_BYTES
        length = _declared_length(request.META.get("CONTENT_LENGTH"))
        if length is not None and length > limit:
            return too_large_response(request.path, limit)
        return self.get_response(request)


class RequestBodyLimit:
    """ASGI middleware for HTTP: the cap applied before Django reads the body (see the module)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.CEA_MAX_REQUEST_BYTES
        length = _declared_length(dict(scope.get("headers", [])).get(b"content-length"))
        if length is not None and length > limit:
            await self._refuse(scope, send, limit)
            return

        received = 0
        exceeded = False
        response_started = False

        async def counted_receive():
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django stops reading at a disconnect and answers nothing; the refusal is sent below.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if exceeded and not response_started:
            await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope, send, limit: int) -> None:
        response = await sync_to_async(too_large_response)(scope["path"], limit)
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})
