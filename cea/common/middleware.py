"""Page views raise ``ApplicationError`` like services do; this turns it into a clear page or fragment
(and a database or Redis that cannot be reached into a 503 page asking to try again)."""

from __future__ import annotations

import logging

from django.shortcuts import render

from cea.common.errors import ApplicationError, ServiceUnavailable, unavailable_from

logger = logging.getLogger(__name__)


class ApplicationErrorMiddleware:
    """Render an ``ApplicationError`` escaping a page view with its status code.

    An htmx request gets a small fragment (swapped in place of the form's target);
    a full page request gets the error page. DRF views never reach here: their
    exception handler answers first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        unavailable = unavailable_from(exception)
        if unavailable is not None:  # the database or Redis cannot be reached now: 503, try again
            logger.warning("Database or Redis unavailable: %s", type(exception).__name__, exc_info=exception)
            exception = unavailable
        if not isinstance(exception, ApplicationError):
            return None
        template = "errors/fragment.html" if getattr(request, "htmx", False) else "errors/page.html"
        response = render(request, template, {"error": exception}, status=exception.status_code)
        if isinstance(exception, ServiceUnavailable):
            response["Retry-After"] = str(exception.retry_after_seconds)
        return response
