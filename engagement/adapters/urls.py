"""API routes of engagement.adapters, mounted under /api/v1/engagement/ by engagement/urls.py."""

from django.urls import path

from engagement.adapters import media, messenger_apis, provider_apis, push_apis, whatsapp_apis
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
    # Providers' own webhooks (engagement/adapters/provider_apis.py).
    path("providers/twilio/<str:source_name>/sms/", provider_apis.TwilioSmsApi.as_view(), name="twilio-sms"),
    path("providers/twilio/<str:source_name>/status/", provider_apis.TwilioStatusApi.as_view(), name="twilio-status"),
    path(
        "providers/vonage/<str:source_name>/inbound/", provider_apis.VonageInboundApi.as_view(), name="vonage-inbound"
    ),
    path(
        "providers/vonage/<str:source_name>/receipts/", provider_apis.VonageReceiptApi.as_view(), name="vonage-receipts"
    ),
    path("providers/whatsapp/<str:source_name>/", whatsapp_apis.WhatsAppWebhookApi.as_view(), name="whatsapp-webhook"),
    path(
        "conversations/<str:conversation_id>/whatsapp/templates/",
        whatsapp_apis.WhatsAppTemplatesApi.as_view(),
        name="whatsapp-templates",
    ),
    path(
        "providers/messenger/<str:source_name>/",
        messenger_apis.MessengerWebhookApi.as_view(),
        name="messenger-webhook",
    ),
    # A sent file, for whoever holds its signed link (engagement/adapters/media.py): providers, the widget.
    path("media/<str:token>/", media.AttachmentMediaApi.as_view(), name="attachment-media"),
    path("app/messages/", AppMessageApi.as_view(), name="app-messages"),
    path("web-forms/submissions/", WebFormSubmissionApi.as_view(), name="web-form-submissions"),
    path("branches/check-ins/", BranchCheckInApi.as_view(), name="branch-check-ins"),
    path("iot/events/", DeviceEventApi.as_view(), name="device-events"),
    # App and IoT push (engagement/adapters/push_apis.py).
    path("push/devices/", push_apis.PushDeviceListApi.as_view(), name="push-devices"),
    path("push/devices/<int:device_id>/", push_apis.PushDeviceApi.as_view(), name="push-device"),
    path("push/messages/<int:message_id>/receipts/", push_apis.PushReceiptApi.as_view(), name="push-receipts"),
]
