"""Websocket URLs of every app (the composition root's; contact routing is engagement/routing/)."""

from engagement.websockets import authenticated_websocket_urlpatterns as engagement_authenticated
from engagement.websockets import public_websocket_urlpatterns
from insights.websockets import authenticated_websocket_urlpatterns as insights_authenticated

authenticated_websocket_urlpatterns = [*engagement_authenticated, *insights_authenticated]

__all__ = ["authenticated_websocket_urlpatterns", "public_websocket_urlpatterns"]
