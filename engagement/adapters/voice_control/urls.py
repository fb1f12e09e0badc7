"""API routes of voice call control, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.adapters.voice_control.apis import (
    CallApi,
    CallHangUpApi,
    CallHoldApi,
    CallResumeApi,
    CallTransferApi,
    VoiceWebhookApi,
)

CALL = "conversations/<str:conversation_id>/call/"

urlpatterns = [
    path("voice/<str:source_name>/<str:step>/", VoiceWebhookApi.as_view(), name="voice-webhook"),
    path(CALL, CallApi.as_view(), name="conversation-call"),
    path(f"{CALL}hold/", CallHoldApi.as_view(), name="conversation-call-hold"),
    path(f"{CALL}resume/", CallResumeApi.as_view(), name="conversation-call-resume"),
    path(f"{CALL}transfer/", CallTransferApi.as_view(), name="conversation-call-transfer"),
    path(f"{CALL}hang-up/", CallHangUpApi.as_view(), name="conversation-call-hang-up"),
]
