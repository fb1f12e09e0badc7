"""The real-time API, mounted at /api/v1/insights/realtime/ by insights/urls.py."""

from django.urls import path

from insights.realtime.apis import RealtimeQueuesApi

urlpatterns = [
    path("queues/", RealtimeQueuesApi.as_view(), name="realtime-queues"),
]
