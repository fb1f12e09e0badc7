"""Survey configuration, the surveys sent (or skipped) after conversations, and the eNPS pulse.

A ``Survey`` row is one conversation's survey: sent (with a one-time link whose token is kept only
as a SHA-256 hash), answered, or skipped with the reason (sampled out, capped, no consent, no
address). ``PulseAnswer`` holds an agent's eNPS answer without naming the agent: only the team and
the month; ``PulseParticipation`` says who answered in a month (one answer each), not what.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from records.customers.models import ConsentPurpose


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT (1–5)")
    NPS = "nps", _("NPS (0–10)")
    CES = "ces", _("CES (1–7)")


# The answer scale of each kind: lowest and highest score.
SCALES: dict[str, tuple[int, int]] = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10), SurveyKind.CES: (1, 7)}
QUESTIONS: dict[str, str] = {
    SurveyKind.CSAT: "How satisfied are you with the service you received?",
    SurveyKind.NPS: "How likely are you to recommend us to a friend or colleague?",
    SurveyKind.CES: "How easy was it to get your issue handled?",
}
SURVEY_CHANNELS = (Channel.CHAT, Channel.EMAIL, Channel.SMS)


class SurveyConfig(models.Model):
    """Which survey follows a conversation on ``channel`` in ``queue`` (blank: any queue of the channel)."""

    queue = models.CharField(max_length=100, blank=True, help_text="Blank: every queue of the channel.")
    channel = models.CharField(max_length=20, choices=[(c.value, c.label) for c in SURVEY_CHANNELS])
    kind = models.CharField(max_length=10, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    active = models.BooleanField(default=True)
    question = models.CharField(max_length=300, blank=True, help_text="Blank: the kind's standard question.")
    sample_percent = models.PositiveSmallIntegerField(default=100, help_text="Share of conversations surveyed, 0–100.")
    cap_days = models.PositiveSmallIntegerField(
        default=30, help_text="At most one survey per customer in this many days (0: no cap)."
    )
    consent_purpose = models.CharField(
        max_length=20, choices=ConsentPurpose.choices, default=ConsentPurpose.RESEARCH,
        help_text="The consent an email or SMS survey needs (granted for the channel and this purpose).",
    )  # fmt: skip
    chat_requires_consent = models.BooleanField(
        default=False,
        help_text="In the chat widget, ask only customers who granted this consent for chat "
        "(otherwise everyone who has not withdrawn it).",
    )
    valid_hours = models.PositiveSmallIntegerField(
        default=72, help_text="How long the link (and an SMS reply) answers the survey."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "channel"], name="survey_config_once_per_queue_channel")
        ]
        ordering = ["channel", "queue"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.get_channel_display()} · {self.queue or 'every queue'}"


class SurveyStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    SKIPPED = "skipped", _("Skipped")


class SkipReason(models.TextChoices):
    SAMPLED_OUT = "sampled_out", _("Sampled out")
    CAPPED = "capped", _("Frequency cap")
    NO_CONSENT = "no_consent", _("No consent")
    NO_ADDRESS = "no_address", _("No address")
    ABANDONED = "abandoned", _("Abandoned before an agent")


class Survey(models.Model):
    config = models.ForeignKey(SurveyConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=SurveyStatus.choices)
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    interaction = models.OneToOneField(
        "records.Interaction", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    customer = models.ForeignKey("records.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    queue = models.CharField(max_length=100, blank=True)
    question = models.CharField(max_length=300, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    sent_to = models.CharField(max_length=320, blank=True, help_text="The email or phone it went to.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answer_ref = models.CharField(max_length=200, blank=True, help_text="The SMS that answered it.")

    class Meta:
        indexes = [
            models.Index(fields=["customer", "sent_at"], name="survey_customer_sent"),
            models.Index(fields=["channel", "sent_to", "status"], name="survey_open_by_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} survey {self.pk} ({self.status})"


class PulseAnswer(models.Model):
    """One agent's eNPS answer (0–10) for a month; it does not say who gave it."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    period = models.DateField(help_text="The first day of the month.")
    score = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["period", "team"], name="pulse_period_team")]

    def __str__(self) -> str:
        return f"eNPS answer of {self.period:%Y-%m}"


class PulseParticipation(models.Model):
    """That a user answered the pulse of a month (one answer each); not what they answered."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "period"], name="pulse_once_per_user_period")]

    def __str__(self) -> str:
        return f"Pulse of {self.period:%Y-%m} answered"
