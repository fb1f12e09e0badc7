"""Websocket routes of insights (all behind session authentication and the origin check, cea/asgi.py)."""

from django.urls import path

from insights.wallboard.consumers import WallboardConsumer

authenticated_websocket_urlpatterns: list = [
    path("ws/insights/wallboard/<int:team_id>/", WallboardConsumer.as_asgi(), name="ws-wallboard"),
]

__all__ = ["authenticated_websocket_urlpatterns"]
