"""API routes of the engagement metrics, mounted under /api/v1/insights/ by insights/urls.py."""

from django.urls import path

from insights.metrics import apis

urlpatterns = [
    path("metrics/engagement/", apis.EngagementMetricsApi.as_view(), name="engagement-metrics"),
]
