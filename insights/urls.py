"""URLs of the System of Insight: the REST API under /api/v1/insights/ and its pages under /insights/."""

from django.urls import include, path

api_urlpatterns: list = [
    path("", include("insights.kpis.urls")),
    path("realtime/", include("insights.realtime.urls")),
    path("personas/", include("insights.personas.api_urls")),
]

page_urlpatterns: list = [
    path("reports/", include("insights.reports.urls")),
    path("wallboard/", include("insights.wallboard.urls")),
    path("personas/", include("insights.personas.urls")),
]
