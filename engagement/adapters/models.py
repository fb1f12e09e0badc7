from __future__ import annotations

from django.db import models

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel


class Provider(models.TextChoices):
    """Which API a source speaks: how its webhooks are signed and shaped, and how replies leave through it."""

    CEA = "cea", "CEA's own signed webhook (X-CEA-Signature)"
    TWILIO = "twilio", "Twilio (Messages API, voice webhooks)"
    VONAGE = "vonage", "Vonage (SMS API)"
    WHATSAPP = "whatsapp", "WhatsApp Cloud API (Meta)"
    MESSENGER = "messenger", "Messenger Send API (Meta Graph)"
    FCM = "fcm", "Firebase Cloud Messaging HTTP v1"
    WEB_PUSH = "web_push", "Web Push (VAPID)"


class WebhookSource(TimeStampedModel):
    """A provider that sends inbound webhooks (SMS gateway, social platform, telephony).

    Requests are signed with HMAC-SHA256 over ``<timestamp>.<body>`` using ``secret``; the
    secret is never shown back in the console after it is saved.
    """

    name = models.SlugField(max_length=60, unique=True, help_text="Appears in the webhook URL")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    secret = models.CharField(max_length=200)
    queue = models.CharField(max_length=100, blank=True)
    provider = models.CharField(
        max_length=20,
        choices=Provider.choices,
        default=Provider.CEA,
        help_text="The provider's API: how its webhooks are signed and how replies are sent",
    )
    sender_id = models.CharField(
        max_length=120,
        blank=True,
        help_text="Who replies come from: a phone number (E.164), a WhatsApp phone number id, a page id …",
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"
