"""Page views raise ``ApplicationError`` like services do; this turns it into a clear page or fragment."""

from __future__ import annotations

from django.shortcuts import render

from cea.common.errors import ApplicationError


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
        if not isinstance(exception, ApplicationError):
            return None
        template = "errors/fragment.html" if getattr(request, "htmx", False) else "errors/page.html"
        return render(request, template, {"error": exception}, status=exception.status_code)
