from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class ChallengeMethod(models.TextChoices):
    SMS = "sms", _("One-time passcode by SMS")
    EMAIL = "email", _("One-time passcode by email")


class VerificationChallenge(TimeStampedModel):
    """A one-time passcode sent to a registered phone or email of a customer.

    Only a salted hash of the code is kept; a challenge is single-use and expires.
    """

    conversation = models.ForeignKey(
        "engagement.Conversation", on_delete=models.CASCADE, related_name="verification_challenges"
    )
    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10, choices=ChallengeMethod.choices)
    destination = models.CharField(max_length=255, help_text="Masked phone or email the code went to")
    code_hash = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["conversation", "-created_at"], name="challenge_conversation_recent")]

    def __str__(self) -> str:
        return f"{self.method} challenge for conversation {self.conversation_id}"


class VerificationLock(models.Model):
    """Failed verification attempts of a customer; too many in a row lock verification for a cool-off."""

    customer = models.OneToOneField("records.Customer", on_delete=models.CASCADE, related_name="+")
    failures = models.PositiveSmallIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    lockouts = models.PositiveSmallIntegerField(
        default=0, help_text="Locks in a row; each lasts twice the one before (engagement.idv.attempts)"
    )

    def __str__(self) -> str:
        return f"Verification lock of customer {self.customer_id}"
