"""Routes of WFM's adherence: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver, path

from engagement.wfm.adherence import apis, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("adherence/live/", apis.AdherenceLiveApi.as_view(), name="wfm-adherence-live"),
    path("adherence/days/", apis.AdherenceDaysApi.as_view(), name="wfm-adherence-days"),
    path("adherence/exceptions/", apis.AdherenceExceptionsApi.as_view(), name="wfm-adherence-exceptions"),
]
page_urlpatterns: list[URLPattern | URLResolver] = [
    path("adherence/", views.adherence_page, name="wfm-adherence"),
    path("adherence/live/", views.adherence_live_fragment, name="wfm-adherence-live"),
]
