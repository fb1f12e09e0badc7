"""URLs of the integration layer, mounted by cea/urls.py.

- ``customer_api_urlpatterns``: under /api/v1/, beside records' customer endpoints (the
  aggregated view at /api/v1/customers/<id>/aggregate/);
- ``api_urlpatterns``: under /api/v1/integration/ (each package adds its endpoints here).
"""

from django.urls import include, path

from integration.aggregation.urls import customer_api_urlpatterns

api_urlpatterns: list = [
    path("", include("integration.webhooks.urls")),
]

__all__ = ["api_urlpatterns", "customer_api_urlpatterns"]
