"""The interface language of a websocket: what ``LocaleMiddleware`` picks for a page, from the
connection's handshake (the language cookie the picker sets, else Accept-Language), so that what a
socket renders (e.g. the wallboard's board) speaks the language of the page that opened it."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def scope_language(scope: dict[str, Any]) -> str:
    """The supported language code for an ASGI ``scope``: its language cookie, else the best of its
    Accept-Language, else ``LANGUAGE_CODE``."""
    headers = {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
        for name, value in scope.get("headers", [])
    }
    candidates = []
    try:
        cookie = SimpleCookie(headers.get("cookie", "")).get(settings.LANGUAGE_COOKIE_NAME)
    except CookieError:
        cookie = None
    if cookie is not None:
        candidates.append(cookie.value)
    candidates += [code for code, _ in parse_accept_lang_header(headers.get("accept-language", "")) if code != "*"]
    for code in candidates:
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
