"""Websocket routes of every app (the agent desktop and live context arrive with engagement)."""

websocket_urlpatterns: list = []
