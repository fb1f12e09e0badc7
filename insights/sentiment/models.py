from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SentimentSettings(models.Model):
    """What a strongly negative customer turn does (one row, edited by administrators in the console).

    A turn is strongly negative when its score is at or below ``negative_threshold``. It acts once per
    crossing: when the customer's previous scored turn in the conversation was above the threshold (or
    there was none); further negative turns in a row do nothing until a turn comes back above it.
    """

    negative_threshold = models.FloatField(
        default=-0.6,
        validators=[MinValueValidator(-1.0), MaxValueValidator(0.0)],
        help_text="A customer turn scoring at or below this (-1 … 0) is strongly negative.",
    )
    raise_priority = models.BooleanField(
        default=True, help_text="Raise the conversation's routing priority (its context's priority_boost)."
    )
    priority_points = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Points added to the boost per crossing (routing clamps a boost to 50).",
    )
    alert_supervisor = models.BooleanField(
        default=True, help_text="Alert the team's supervisors (live conversations page and sentiment report)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sentiment settings"
        verbose_name_plural = "sentiment settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="sentiment_settings_one_row")]

    def __str__(self) -> str:
        return f"Strongly negative at {self.negative_threshold:g}"


class NegativeTurn(models.Model):
    """A strongly negative customer turn that crossed the threshold, and what was done about it."""

    message_id = models.BigIntegerField(unique=True, help_text="engagement Message (one per message)")
    conversation_id = models.BigIntegerField(db_index=True)
    customer = models.ForeignKey("records.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue = models.CharField(max_length=100, blank=True)
    score = models.FloatField()
    threshold = models.FloatField()
    priority_raised_by = models.PositiveSmallIntegerField(default=0)
    supervisor_alerted = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["team", "-at"], name="negative_turn_team_recent")]

    def __str__(self) -> str:
        return f"Conversation {self.conversation_id}: {self.score:+.2f}"
