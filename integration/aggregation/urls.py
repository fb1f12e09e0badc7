"""The aggregated view's API, under /api/v1/ next to records' customer endpoints (cea/urls.py)."""

from django.urls import path

from integration.aggregation.apis import CustomerAggregateApi

customer_api_urlpatterns = [
    path("customers/<int:customer_id>/aggregate/", CustomerAggregateApi.as_view(), name="customer-aggregate"),
]
