"""Websocket routes of every app."""

from engagement.websockets import authenticated_websocket_urlpatterns, public_websocket_urlpatterns

__all__ = ["authenticated_websocket_urlpatterns", "public_websocket_urlpatterns"]
