"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets of signed-in users (the agent desktop, live context) are session-authenticated and
origin-checked against ALLOWED_HOSTS; the public web chat widget runs on customers' own sites,
so its consumer checks the Origin against its site key's allowed origins instead.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cea.settings")

from cea.common.asgi_handler import get_asgi_application

# Django's ASGI handler, reusing each request's thread rather than starting two a request.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from cea.common.body_limit import RequestBodyLimit  # noqa: E402
from cea.websockets import authenticated_websocket_urlpatterns, public_websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Bodies over CEA_MAX_REQUEST_BYTES are refused before Django reads them.
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": URLRouter(
            [
                *public_websocket_urlpatterns,
                # Everything else: signed-in users, from pages of this site only.
                re_path(
                    r"^",
                    AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(authenticated_websocket_urlpatterns))),
                ),
            ]
        ),
    }
)
