"""API routes of personas, mounted under /api/v1/insights/personas/ by insights/urls.py."""

from django.urls import path

from insights.personas import apis

urlpatterns = [
    path("", apis.PersonaListApi.as_view(), name="personas"),
    path("discovery/", apis.PersonaDiscoveryApi.as_view(), name="persona-discovery"),
    path("<slug:key>/", apis.PersonaDetailApi.as_view(), name="persona"),
]
