"""Pages of web chat: the demo shop, a stand-in for a customer's website that embeds the widget,
and the widget's strings in the host page's language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.translation.trans_real import DjangoTranslation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.i18n import JSONCatalog

from cea.common.translations import supported_language
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


class WidgetCatalog(JSONCatalog):
    """The scripts' catalog of this project's ``locale/`` only (not Django's own apps' strings)."""

    def get(self, request, *args, **kwargs):
        self.translation = DjangoTranslation(
            translation.get_language(), domain=self.domain, localedirs=[str(path) for path in settings.LOCALE_PATHS]
        )
        return self.render_to_response(self.get_context_data(**kwargs))


@require_GET
@cache_control(max_age=3600, public=True)
def widget_strings(request: HttpRequest, language: str) -> HttpResponseBase:
    """The scripts' catalog (``djangojs``) in ``language`` as JSON, for the widget on any site.

    Public and the same for everyone, so any origin may read it: the widget asks for the host
    page's language (docs/translations.md) and falls back to its English strings without it.
    """
    language = supported_language(language)
    with translation.override(language):
        response = WidgetCatalog.as_view()(request)
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Language"] = language
    return response
