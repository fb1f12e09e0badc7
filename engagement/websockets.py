"""Websocket routes of engagement.

``authenticated`` routes sit behind session authentication and the allowed-hosts origin check
(cea/asgi.py); ``public`` routes (the web chat widget, embedded on other sites) check their own
origins against the site key's allowed origins.
"""

from django.urls import path

from engagement.context.consumers import LiveContextConsumer
from engagement.desktop.consumers import DesktopConsumer
from engagement.supervision.consumers import SupervisionConsumer
from engagement.webchat.consumers import WebchatConsumer
from engagement.wfm.adherence.consumers import AdherenceConsumer

authenticated_websocket_urlpatterns: list = [
    path("ws/context/", LiveContextConsumer.as_asgi(), name="ws-context"),
    path("ws/desktop/", DesktopConsumer.as_asgi(), name="ws-desktop"),
    path("ws/supervision/", SupervisionConsumer.as_asgi(), name="ws-supervision"),
    path("ws/wfm/adherence/", AdherenceConsumer.as_asgi(), name="ws-wfm-adherence"),
]
public_websocket_urlpatterns: list = [
    path("ws/webchat/", WebchatConsumer.as_asgi(), name="ws-webchat"),
]

__all__ = ["authenticated_websocket_urlpatterns", "public_websocket_urlpatterns"]
