"""API routes of engagement.webchat, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.webchat.apis import WebchatAttachmentApi

urlpatterns: list = [
    path("webchat/attachments/", WebchatAttachmentApi.as_view(), name="webchat-attachment"),
]
