"""Pages of web chat: the demo shop, a stand-in for a customer's website that embeds the widget."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagement.webchat.selectors import site_key_active
from engagement.webchat.services import DEMO_SITE_KEY


def widget_src(request: HttpRequest) -> str:
    """The widget's stable (unhashed) address, as a customer's site embeds it."""
    return request.build_absolute_uri(f"{settings.STATIC_URL}engagement/widget.js")


@require_GET
def demo_shop(request: HttpRequest) -> HttpResponse:
    """A plain shop page that embeds the widget exactly as any website would: one script tag.

    Public, like a real shop. Without the demo site key (``manage.py ensure_demo_site``) the
    page says so instead of embedding a widget that would be refused.
    """
    return render(
        request,
        "engagement/demo_shop.html",
        {"site_key": site_key_active(key=DEMO_SITE_KEY), "widget_src": widget_src(request)},
    )
