"""Routes of WFM's planning: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver, path

from engagement.wfm.planning import apis, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("planning-queues/", apis.PlanningQueueListApi.as_view(), name="wfm-planning-queues"),
    path("planning-queues/discover/", apis.PlanningQueueDiscoverApi.as_view(), name="wfm-planning-queues-discover"),
    path(
        "planning-queues/<str:planning_queue_id>/",
        apis.PlanningQueueDetailApi.as_view(),
        name="wfm-planning-queue",
    ),
]
page_urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.wfm_home, name="wfm"),
]
