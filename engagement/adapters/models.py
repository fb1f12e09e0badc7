from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel


class Provider(models.TextChoices):
    """Which API a source speaks: how its webhooks are signed and shaped, and how replies leave through it."""

    CEA = "cea", _("CEA's own signed webhook (X-CEA-Signature)")
    TWILIO = "twilio", _("Twilio (Messages API, voice webhooks)")
    VONAGE = "vonage", _("Vonage (SMS API)")
    WHATSAPP = "whatsapp", _("WhatsApp Cloud API (Meta)")
    MESSENGER = "messenger", _("Messenger Send API (Meta Graph)")
    FCM = "fcm", _("Firebase Cloud Messaging HTTP v1")
    WEB_PUSH = "web_push", _("Web Push (VAPID)")


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


class SendStatus(models.TextChoices):
    """Where an outbound message is, in order (``SEND_RANK``): a receipt never moves it backwards."""

    QUEUED = "queued", _("Queued in CEA's outbox")
    SENT = "sent", _("Accepted by the provider")
    DELIVERED = "delivered", _("Delivered to the handset")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# delivered and failed are both ends of the carrier's part; read (a chat app's receipt) is beyond them.
SEND_RANK = {
    SendStatus.QUEUED: 0,
    SendStatus.SENT: 1,
    SendStatus.DELIVERED: 2,
    SendStatus.FAILED: 2,
    SendStatus.READ: 3,
}


class ProviderSend(TimeStampedModel):
    """One reply going out through a source's provider (Twilio, Vonage …): its status, the time of
    each receipt, and its retries. The message's payload mirrors it for the desk
    (``delivery``, ``receipts``, ``error``); this row is the truth and what receipts are matched on."""

    message = models.OneToOneField("engagement.Message", on_delete=models.CASCADE, related_name="provider_send")
    source = models.ForeignKey(WebhookSource, on_delete=models.PROTECT, related_name="sends")
    provider_message_id = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=SendStatus.choices, default=SendStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    queued_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="provider_send_id_once",
            )
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="provider_send_due", condition=models.Q(status="queued"))
        ]

    def __str__(self) -> str:
        return f"{self.source.name} send {self.pk} ({self.status})"


class TemplateStatus(models.TextChoices):
    APPROVED = "approved", _("Approved")
    PENDING = "pending", _("Pending review")
    REJECTED = "rejected", _("Rejected")
    PAUSED = "paused", _("Paused")


class MessageTemplate(TimeStampedModel):
    """A provider's approved message template (WhatsApp's), the only message a business may send
    outside the 24-hour window after the customer's last message. ``body`` is the template's text
    with ``{{1}}``, ``{{2}}`` … placeholders (``params``: how many); only an ``approved`` one is sent.
    Kept in step with the provider (``engagement/adapters/whatsapp.py``) or entered in the console."""

    source = models.ForeignKey(WebhookSource, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15, help_text="The template's language code, e.g. en_GB, de")
    category = models.CharField(max_length=20, blank=True, help_text="MARKETING, UTILITY or AUTHENTICATION")
    body = models.TextField(help_text="The text, with {{1}}, {{2}} … where the values go")
    params = models.PositiveSmallIntegerField(default=0, help_text="How many placeholders the body has")
    status = models.CharField(max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.PENDING)
    provider_template_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["source", "name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["source", "name", "language"], name="message_template_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class PushDevice(TimeStampedModel):
    """Where an app's or a device's push notifications go: an FCM registration token, or a Web Push
    subscription (its endpoint and keys, RFC 8291), registered by the channel's back-end (``client``)
    for a mobile app session or an IoT device (``address``) under the app's push source
    (``engagement/adapters/push.py``). One per client, channel and address: registering again
    replaces the token or subscription (an app's token is refreshed now and then)."""

    source = models.ForeignKey(WebhookSource, on_delete=models.CASCADE, related_name="push_devices")
    client = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    address = models.CharField(max_length=120, help_text="The app's session id, or the IoT device's id")
    token = models.CharField(max_length=4096, blank=True, help_text="FCM: the registration token")
    endpoint = models.CharField(max_length=2048, blank=True, help_text="Web Push: the subscription's endpoint")
    p256dh = models.CharField(max_length=100, blank=True, help_text="Web Push: the subscription's public key")
    auth = models.CharField(max_length=40, blank=True, help_text="Web Push: the subscription's auth secret")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "channel", "address"], name="push_device_once"),
        ]
        indexes = [models.Index(fields=["channel", "address"], name="push_device_address")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address} ({self.source.name})"
