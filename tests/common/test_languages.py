"""A websocket's interface language, from its handshake as LocaleMiddleware reads a page's request."""

from __future__ import annotations

import pytest

from cea.common.languages import scope_language


def _scope(**headers: str) -> dict:
    return {"headers": [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]}


@pytest.mark.parametrize(
    ("headers", "language"),
    [
        ({}, "en-gb"),
        ({"accept_language": "de-DE,de;q=0.9,en;q=0.8"}, "de"),
        ({"accept_language": "fr-FR,fr;q=0.9,de;q=0.5"}, "de"),  # the best supported one
        ({"accept_language": "en-US,en;q=0.9"}, "en-gb"),
        ({"accept_language": "fr-FR,*;q=0.1"}, "en-gb"),
        ({"accept_language": "de", "cookie": "sessionid=abc; django_language=en-gb"}, "en-gb"),  # the picker's choice
        ({"accept_language": "en", "cookie": "django_language=de"}, "de"),
        ({"accept_language": "de", "cookie": "django_language=xx"}, "de"),  # an unknown cookie is passed over
        ({"cookie": "not a cookie ;;; \x7f"}, "en-gb"),
    ],
)
def test_the_language_of_a_handshake(headers, language):
    # Given a websocket handshake's headers
    # When its language is asked
    # Then it is the cookie's, else the best supported of Accept-Language, else the default
    assert scope_language(_scope(**headers)) == language
