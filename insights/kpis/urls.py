"""API routes of the KPIs, mounted under /api/v1/insights/ by insights/urls.py."""

from django.urls import path

from insights.kpis import apis

urlpatterns = [
    path("kpis/", apis.KpiSeriesApi.as_view(), name="kpi-series"),
    path("kpis/definitions/", apis.KpiDefinitionListApi.as_view(), name="kpi-definitions"),
]
