from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallbackStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")  # waiting for its due time
    QUEUED = "queued", _("Queued")  # its conversation waits for (or is with) an agent
    ANSWERED = "answered", _("Answered")  # the agent reached the customer
    GAVE_UP = "gave_up", _("Gave up")  # no answer on its last attempt (docs/desk.md, "callbacks")


class CallbackOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")


class Callback(models.Model):
    """A customer to call back: at ``due_at`` a voice conversation with them joins ``queue`` as work,
    and the router offers it to an agent, who calls the customer.

    ``conversation`` is that outbound voice conversation, once queued (the current attempt's).
    An attempt with no answer (the agent's ``no_answer`` outcome, or the conversation ended with no
    outcome recorded) schedules the next ``retry_minutes`` later, up to ``max_attempts``; then the
    callback ``gave_up``. ``attempt_log`` keeps every attempt's outcome. ``phone`` is a number the
    customer gave for this callback (blank: their own).
    """

    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="callbacks")
    queue = models.CharField(max_length=100)
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=120, help_text="What asked for it: an agent, a strategy (strategy:<key>) …")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.SCHEDULED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation = models.OneToOneField(
        "engagement.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="callback"
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts queued so far")
    max_attempts = models.PositiveSmallIntegerField(default=3)
    retry_minutes = models.PositiveIntegerField(default=30, help_text="Gap before the next attempt after no answer")
    attempt_log = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="Answered or given up")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], name="callback_scheduled_due", condition=models.Q(status="scheduled"))
        ]

    def __str__(self) -> str:
        return f"callback {self.pk} ({self.status}) for customer {self.customer_id}"
