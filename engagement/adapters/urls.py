"""API routes of engagement.adapters, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.adapters.apis import (
    AppMessageApi,
    BranchCheckInApi,
    DeviceEventApi,
    EmailInboundApi,
    WebFormSubmissionApi,
    WebhookApi,
)

urlpatterns = [
    path("email/inbound/", EmailInboundApi.as_view(), name="email-inbound"),
    path("webhooks/<str:source_name>/", WebhookApi.as_view(), name="webhook"),
    path("app/messages/", AppMessageApi.as_view(), name="app-messages"),
    path("web-forms/submissions/", WebFormSubmissionApi.as_view(), name="web-form-submissions"),
    path("branches/check-ins/", BranchCheckInApi.as_view(), name="branch-check-ins"),
    path("iot/events/", DeviceEventApi.as_view(), name="device-events"),
]
