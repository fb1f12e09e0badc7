from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# What the API and the console show of an action (the console adds its team).
SHOWN_FIELDS = (
    "customer",
    "source_key",
    "title",
    "detail",
    "reasons",
    "score",
    "status",
    "expires_at",
    "decided_by",
    "decided_at",
    "conversation",
    "note",
    "created_at",
)


class RecommendationStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")
    EXPIRED = "expired", _("Expired")


class RecommendedAction(models.Model):
    """An action offered for a customer (a strategy's next best action), until an agent decides it or it expires.

    ``source_key`` names what offered it (``strategy:<key>``): at most one action per customer and
    source is open (``offered``) at a time; offering it again updates its score and reasons
    (``recommendation_offer``). ``team`` is the customer's team when it was offered. ``conversation``
    is the conversation on the deciding agent's desk with the customer, if any.
    """

    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="recommended_actions")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True, help_text="What to do or say: the script the agent follows")
    reasons = models.JSONField(default=list, blank=True, help_text="Why it is offered, in words")
    score = models.FloatField(default=0.0)
    status = models.CharField(max_length=10, choices=RecommendationStatus.choices, default=RecommendationStatus.OFFERED)
    expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    conversation = models.ForeignKey(
        "engagement.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source_key"],
                condition=models.Q(status="offered"),
                name="recommendation_one_open_per_source",
            ),
            models.CheckConstraint(condition=~models.Q(source_key=""), name="recommendation_has_source"),
        ]
        indexes = [
            models.Index(
                fields=["customer", "-score"], name="recommendation_open_rank", condition=models.Q(status="offered")
            ),
            models.Index(fields=["source_key", "created_at"], name="recommendation_source_time"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"
