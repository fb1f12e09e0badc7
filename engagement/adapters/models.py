from __future__ import annotations

from django.db import models

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel


class WebhookSource(TimeStampedModel):
    """A provider that sends inbound webhooks (SMS gateway, social platform, telephony).

    Requests are signed with HMAC-SHA256 over ``<timestamp>.<body>`` using ``secret``; the
    secret is never shown back in the console after it is saved.
    """

    name = models.SlugField(max_length=60, unique=True, help_text="Appears in the webhook URL")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    secret = models.CharField(max_length=200)
    queue = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"
