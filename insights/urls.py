"""URLs of the System of Insight: the REST API under /api/v1/insights/ and its pages under /insights/."""

from django.urls import include, path

from insights.strategies.urls import api_urlpatterns as strategy_api
from insights.strategies.urls import page_urlpatterns as strategy_pages

api_urlpatterns: list = [
    path("", include("insights.kpis.urls")),
    path("realtime/", include("insights.realtime.urls")),
    path("", include(strategy_api)),
]

page_urlpatterns: list = [
    path("reports/", include("insights.reports.urls")),
    path("wallboard/", include("insights.wallboard.urls")),
    path("strategies/", include(strategy_pages)),
]
