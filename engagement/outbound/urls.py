"""API routes of proactive outbound, mounted under /api/v1/engagement/ by engagement/urls.py (before
conversations' own routes: ``conversations/outbound/`` is not a conversation's id)."""

from django.urls import path

from engagement.outbound.apis import CallbackRequestApi, OutboundStartApi

urlpatterns = [
    path("conversations/outbound/", OutboundStartApi.as_view(), name="conversation-outbound"),
    path("callbacks/", CallbackRequestApi.as_view(), name="callback-list"),
]
