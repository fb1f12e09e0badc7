"""URLs of the System of Insight: the REST API under /api/v1/insights/ and its pages under /insights/."""

from django.urls import include, path

from insights.compliance import urls as compliance_urls
from insights.journeys import urls as journeys
from insights.quality import urls as quality_urls
from insights.scoring import urls as scoring_urls
from insights.sentiment import urls as sentiment_urls
from insights.strategies.urls import api_urlpatterns as strategy_api
from insights.strategies.urls import page_urlpatterns as strategy_pages
from insights.surveys import urls as surveys

api_urlpatterns: list = [
    path("", include("insights.kpis.urls")),
    path("realtime/", include("insights.realtime.urls")),
    path("", include("insights.metrics.urls")),
    path("models/", include(scoring_urls.api_urlpatterns)),
    path("journeys/", include(journeys.api_urlpatterns)),
    path("", include(strategy_api)),
    path("personas/", include("insights.personas.api_urls")),
    path("quality/", include(quality_urls.api_urlpatterns)),
    path("sentiment/", include(sentiment_urls.api_urlpatterns)),
    path("compliance/", include(compliance_urls.api_urlpatterns)),
    path("surveys/", include(surveys.api_urlpatterns)),
]

page_urlpatterns: list = [
    path("reports/", include("insights.reports.urls")),
    path("wallboard/", include("insights.wallboard.urls")),
    path("metrics/", include("insights.metrics.page_urls")),
    path("models/", include(scoring_urls.page_urlpatterns)),
    path("journeys/", include(journeys.page_urlpatterns)),
    path("strategies/", include(strategy_pages)),
    path("personas/", include("insights.personas.urls")),
    path("quality/", include(quality_urls.page_urlpatterns)),
    path("sentiment/", include(sentiment_urls.page_urlpatterns)),
    path("compliance/", include(compliance_urls.page_urlpatterns)),
    path("surveys/", include(surveys.page_urlpatterns)),
]

# At the site's root (short links in SMS): the customers' one-time survey page.
public_urlpatterns: list = surveys.public_urlpatterns
