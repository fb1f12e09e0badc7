"""Websocket URLs of every app (the composition root's; contact routing is engagement/routing/)."""

from engagement.websockets import authenticated_websocket_urlpatterns, public_websocket_urlpatterns

__all__ = ["authenticated_websocket_urlpatterns", "public_websocket_urlpatterns"]
