"""Websocket routes of engagement.

``authenticated`` routes sit behind session authentication and the allowed-hosts origin check
(cea/asgi.py); ``public`` routes (the web chat widget, embedded on other sites) check their own
origins against the site key's allowed origins.
"""

from django.urls import path

authenticated_websocket_urlpatterns: list = []
public_websocket_urlpatterns: list = []

__all__ = ["authenticated_websocket_urlpatterns", "path", "public_websocket_urlpatterns"]
