"""The path of the HTTP request being served, for what records about it (the customer access log).

Set by ``RequestUrlMiddleware`` for every request, whatever its method: pghistory's middleware
knows the URL too, but opens its audit context only on requests that may write
(``PGHISTORY_MIDDLEWARE_METHODS``), and reads must be logged with theirs.
"""

from __future__ import annotations

from contextvars import ContextVar

_url: ContextVar[str] = ContextVar("cea_request_url", default="")


def request_url() -> str:
    """The path of the request this code serves; "" outside a request (a task, a command)."""
    return _url.get()


class RequestUrlMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _url.set(request.path)
        try:
            return self.get_response(request)
        finally:
            _url.reset(token)
