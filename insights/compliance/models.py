from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    REQUIRED = "required", _("Required (the agent must say it)")
    FORBIDDEN = "forbidden", _("Forbidden (the agent must not say it)")


class ComplianceRule(models.Model):
    """A phrase a queue's agents must say (a disclosure) or must not say, checked on every transcript.

    Matching is case-insensitive on whitespace-normalised text; ``is_regex`` makes the phrase a Python
    regular expression (checked when saved). Only the agent's own messages count. An empty ``queue``
    applies to every queue.
    """

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    queue = models.CharField(max_length=100, blank=True, db_index=True, help_text="Queue name; empty: every queue")
    kind = models.CharField(max_length=10, choices=RuleKind.choices)
    phrase = models.CharField(max_length=500)
    is_regex = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queue", "key"]

    def __str__(self) -> str:
        return self.name


class ComplianceCheck(models.Model):
    """One rule's verdict on one interaction (evaluated again, the row is replaced).

    ``evidence`` is where in the transcript: the entry's index, and for a forbidden phrase the words
    matched with a little context (``excerpt``, transcript text: personal data, see personal_data.py).
    """

    interaction = models.ForeignKey("records.Interaction", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(ComplianceRule, on_delete=models.CASCADE, related_name="checks")
    passed = models.BooleanField()
    entry_index = models.IntegerField(null=True, blank=True, help_text="Transcript entry where it was found")
    excerpt = models.CharField(max_length=300, blank=True)
    # Copied from the interaction for the report's grouping and team scoping.
    queue = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    interaction_started_at = models.DateTimeField()
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-interaction_started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["interaction", "rule"], name="compliance_check_once")]
        indexes = [models.Index(fields=["team", "-interaction_started_at"], name="compliance_team_recent")]

    def __str__(self) -> str:
        return f"{self.rule} on {self.interaction_id}: {'pass' if self.passed else 'fail'}"
