"""URLs of the System of Insight: the REST API under /api/v1/insights/ (pages under /insights/ to come)."""

from django.urls import include, path

api_urlpatterns = [
    path("", include("insights.kpis.urls")),
]

page_urlpatterns = [
    path("reports/", include("insights.reports.urls")),
]
