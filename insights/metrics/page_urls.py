"""Engagement metrics pages, mounted under /insights/metrics/ by insights/urls.py."""

from django.urls import path

from insights.metrics import views

urlpatterns = [
    path("", views.engagement_metrics_page, name="engagement-metrics"),
    path("engagement.csv", views.engagement_metrics_export, name="engagement-metrics-csv"),
]
