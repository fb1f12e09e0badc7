"""API routes of the desk's tools, mounted under /api/v1/engagement/ by engagement/urls.py (before
conversations' own routes: ``conversations/search/`` is not a conversation's id)."""

from django.urls import path

from engagement.desktop.apis import ConversationSearchApi

urlpatterns = [
    path("conversations/search/", ConversationSearchApi.as_view(), name="conversation-search"),
]
