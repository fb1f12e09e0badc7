"""API routes of engagement.idv, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.idv.apis import (
    ConversationIdentifyApi,
    VerificationKnowledgeApi,
    VerificationOtpCheckApi,
    VerificationOtpStartApi,
)

urlpatterns = [
    path(
        "conversations/<int:conversation_id>/identify/", ConversationIdentifyApi.as_view(), name="conversation-identify"
    ),
    path(
        "conversations/<int:conversation_id>/verification/otp/",
        VerificationOtpStartApi.as_view(),
        name="verification-otp-start",
    ),
    path(
        "conversations/<int:conversation_id>/verification/otp/check/",
        VerificationOtpCheckApi.as_view(),
        name="verification-otp-check",
    ),
    path(
        "conversations/<int:conversation_id>/verification/knowledge/",
        VerificationKnowledgeApi.as_view(),
        name="verification-knowledge",
    ),
]
