"""Routes of the sentiment report: the page (/insights/sentiment/) and the API (/api/v1/insights/sentiment/)."""

from django.urls import path

from insights.sentiment import apis, views

api_urlpatterns = [
    path("", apis.SentimentReportApi.as_view(), name="sentiment"),
]

page_urlpatterns = [
    path("", views.sentiment_page, name="sentiment"),
]
