"""A call under CEA's control, the agents' phones, and the recordings a call leaves."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class CallState(models.TextChoices):
    IVR = "ivr", _("In self-service (IVR)")
    QUEUED = "queued", _("Waiting in a queue")
    CLOSED = "closed", _("Told the queue is closed (out of hours)")
    CONNECTING = "connecting", _("Being put through to an agent")
    CONNECTED = "connected", _("With an agent")
    HELD = "held", _("On hold")
    ENDED = "ended", _("Ended")


class VoiceCall(TimeStampedModel):
    """One provider call (``call_sid`` of ``source``) and the conversation it is.

    ``webhook_base`` is the absolute URL the provider reached CEA at (the call's webhooks are below
    it), kept so that TwiML sent through the REST API later names absolute URLs. ``agent`` is who the
    call is put through to (set on accept, cleared on transfer); ``state`` is where the call is.
    """

    source = models.ForeignKey("engagement.WebhookSource", on_delete=models.PROTECT, related_name="+")
    call_sid = models.CharField(max_length=64)
    conversation = models.OneToOneField("engagement.Conversation", on_delete=models.CASCADE, related_name="voice_call")
    caller = models.CharField(max_length=64, blank=True)
    dialled = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=20, choices=CallState.choices, default=CallState.IVR)
    provider_status = models.CharField(max_length=20, blank=True, help_text="The provider's last CallStatus")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    webhook_base = models.URLField(max_length=500)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["source", "call_sid"], name="voicecall_once_per_source")]

    def __str__(self) -> str:
        return f"{self.call_sid} ({self.get_state_display()})"


class VoiceEndpoint(TimeStampedModel):
    """Where an agent's calls are put through: a phone number (E.164), else a softphone client id."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_endpoint")
    phone_number = models.CharField(
        max_length=16,
        blank=True,
        validators=[RegexValidator(r"^\+[1-9][0-9]{6,14}$", "An E.164 number: + and 7 to 15 digits.")],
        help_text="E.164, e.g. +442079460123",
    )
    client_id = models.CharField(
        max_length=120,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_.@-]+$", "Letters, digits and _ . @ - only.")],
        help_text="The softphone's client identity (blank: the username)",
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.phone_number or self.client_id or self.user.get_username()}"


class CallRecording(TimeStampedModel):
    """A recording of a call and its transcription, as the provider's callbacks report them."""

    call = models.ForeignKey(VoiceCall, on_delete=models.CASCADE, related_name="recordings")
    recording_sid = models.CharField(max_length=64)
    url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=20, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    transcription_sid = models.CharField(max_length=64, blank=True)
    transcription_status = models.CharField(max_length=20, blank=True)
    transcription_text = models.TextField(blank=True)
    transcription_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["call", "recording_sid"], name="callrecording_once")]

    def __str__(self) -> str:
        return f"{self.recording_sid} of {self.call.call_sid}"
