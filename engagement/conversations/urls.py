"""API routes of engagement.conversations, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.conversations.apis import (
    ConversationAttachmentApi,
    ConversationDetailApi,
    ConversationDraftAttachmentApi,
    ConversationEndApi,
    ConversationListApi,
    ConversationMessagesApi,
    ConversationReplyApi,
)

urlpatterns = [
    path("conversations/", ConversationListApi.as_view(), name="conversation-list"),
    path("conversations/<str:conversation_id>/", ConversationDetailApi.as_view(), name="conversation-detail"),
    path(
        "conversations/<str:conversation_id>/messages/",
        ConversationMessagesApi.as_view(),
        name="conversation-messages",
    ),
    path("conversations/<str:conversation_id>/reply/", ConversationReplyApi.as_view(), name="conversation-reply"),
    path("conversations/<str:conversation_id>/end/", ConversationEndApi.as_view(), name="conversation-end"),
    path(
        "conversations/<str:conversation_id>/attachments/",
        ConversationDraftAttachmentApi.as_view(),
        name="conversation-attachment-drafts",
    ),
    path(
        "conversations/<str:conversation_id>/attachments/<int:attachment_id>/",
        ConversationAttachmentApi.as_view(),
        name="conversation-attachment",
    ),
]
