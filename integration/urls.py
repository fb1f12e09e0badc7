"""URLs of the integration layer, mounted by cea/urls.py under /api/v1/integration/ (each package
adds its endpoints here)."""

from django.urls import include, path

api_urlpatterns: list = [
    path("", include("integration.webhooks.urls")),
]

__all__ = ["api_urlpatterns"]
