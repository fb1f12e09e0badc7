"""Routes of the supervisor's tools: the API (``urlpatterns``, mounted under /api/v1/engagement/) and the
pages (``page_urlpatterns``, at /desk/supervision/), both by engagement/urls.py."""

from django.urls import path

from engagement.supervision import apis, views

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

page_urlpatterns = [
    path("", views.supervision_page, name="supervision"),
    path("live/", views.live_fragment, name="supervision-live"),
    path("agents/", views.agents_fragment, name="supervision-agents"),
    path("agents/<int:agent_id>/presence/", views.presence_action, name="supervision-presence"),
    path("work/<int:work_item_id>/move/", views.move_action, name="supervision-move"),
    path("work/<int:work_item_id>/requeue/", views.requeue_action, name="supervision-requeue"),
    path("conversations/<int:conversation_id>/", views.monitor_page, name="supervision-monitor"),
    path("conversations/<int:conversation_id>/whisper/", views.whisper_action, name="supervision-whisper"),
    path("conversations/<int:conversation_id>/barge-in/", views.barge_in_action, name="supervision-barge-in"),
    path("conversations/<int:conversation_id>/say/", views.say_action, name="supervision-say"),
]
