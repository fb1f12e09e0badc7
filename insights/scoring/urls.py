"""Routes of the scoring models: the page (/insights/models/) and the API (/api/v1/insights/models/)."""

from django.urls import path

from insights.scoring import apis, views

api_urlpatterns = [
    path("", apis.ModelListApi.as_view(), name="models"),
]

page_urlpatterns = [
    path("", views.models_page, name="models"),
]
