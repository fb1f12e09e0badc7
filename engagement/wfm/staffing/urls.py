"""Routes of WFM's staffing: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver, path

from engagement.wfm.staffing import apis, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("staffing/calculate/", apis.CalculateApi.as_view(), name="wfm-staffing-calculate"),
    path(
        "staffing/planning-queues/<str:planning_queue_id>/requirements/",
        apis.RequirementDayApi.as_view(),
        name="wfm-staffing-requirements",
    ),
]
page_urlpatterns: list[URLPattern | URLResolver] = [
    path("staffing/", views.calculator_page, name="wfm-staffing"),
    path("staffing/queues/<int:planning_queue_id>/", views.requirements_page, name="wfm-staffing-requirements"),
]
