"""API routes of the supervisor's tools, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.supervision import apis

urlpatterns = [
    path("supervision/conversations/", apis.LiveConversationsApi.as_view(), name="supervision-conversations"),
    path(
        "supervision/conversations/<str:conversation_id>/monitor/",
        apis.MonitorApi.as_view(),
        name="supervision-monitor",
    ),
    path(
        "supervision/conversations/<str:conversation_id>/whisper/",
        apis.WhisperApi.as_view(),
        name="supervision-whisper",
    ),
    path(
        "supervision/conversations/<str:conversation_id>/barge-in/",
        apis.BargeInApi.as_view(),
        name="supervision-barge-in",
    ),
    path("supervision/conversations/<str:conversation_id>/say/", apis.SayApi.as_view(), name="supervision-say"),
    path(
        "supervision/agents/<str:agent_id>/presence/",
        apis.AgentPresenceApi.as_view(),
        name="supervision-agent-presence",
    ),
    path("supervision/work/<str:work_item_id>/move/", apis.WorkMoveApi.as_view(), name="supervision-work-move"),
    path(
        "supervision/work/<str:work_item_id>/requeue/",
        apis.WorkRequeueApi.as_view(),
        name="supervision-work-requeue",
    ),
]
