"""Routes of WFM's scheduling: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver, path

from engagement.wfm.scheduling import apis, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("schedules/", apis.SchedulesApi.as_view(), name="wfm-schedules"),
    path("schedules/generate/", apis.ScheduleGenerateApi.as_view(), name="wfm-schedule-generate"),
    path("schedules/<str:schedule_id>/", apis.ScheduleApi.as_view(), name="wfm-schedule"),
    path("schedules/<str:schedule_id>/publish/", apis.SchedulePublishApi.as_view(), name="wfm-schedule-publish"),
]
page_urlpatterns: list[URLPattern | URLResolver] = [
    path("schedules/", views.schedules_page, name="wfm-schedules"),
    path("schedules/<int:schedule_id>/", views.schedule_page, name="wfm-schedule"),
    path("schedules/<int:schedule_id>/publish/", views.schedule_publish_action, name="wfm-schedule-publish"),
]
