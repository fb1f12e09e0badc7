"""URLs of the System of Insight: the REST API under /api/v1/insights/ and its pages under /insights/."""

from django.urls import include, path

from insights.journeys import urls as journeys

api_urlpatterns: list = [
    path("", include("insights.kpis.urls")),
    path("realtime/", include("insights.realtime.urls")),
    path("journeys/", include(journeys.api_urlpatterns)),
]

page_urlpatterns: list = [
    path("reports/", include("insights.reports.urls")),
    path("wallboard/", include("insights.wallboard.urls")),
    path("journeys/", include(journeys.page_urlpatterns)),
]
