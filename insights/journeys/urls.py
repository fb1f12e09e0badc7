"""Journey pages (under /insights/journeys/) and APIs (under /api/v1/insights/journeys/)."""

from django.urls import path

from insights.journeys import apis, views

page_urlpatterns = [
    path("", views.journey_map_page, name="journey-map"),
    path("customers/<int:customer_id>/stages/", views.customer_stages_fragment, name="journey-customer-stages"),
]

api_urlpatterns = [
    path("", apis.JourneyMapApi.as_view(), name="journey-map"),
    path("customers/<int:customer_id>/stages/", apis.CustomerStagesApi.as_view(), name="journey-customer-stages"),
]
