"""Back-office work and out-of-hours answers.

Back-office work (a records case, or a task) is routed like any contact: it is carried by a
*back-office conversation* (``BackofficeWork.conversation``) that joins a queue through the usual
hand-off (``conversation_escalate``), so the router's invariants hold unchanged (one open work item
per conversation, load under the agent's lock, offers, transfer, wrap-up, the insights that read
``WorkItem.conversation``). docs/desk.md, "Back-office work", says why this and not a work item
without a conversation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel


class BackofficeKind(models.TextChoices):
    CASE = "case", _("Case (service request)")
    TASK = "task", _("Task")


class BackofficeStatus(models.TextChoices):
    QUEUED = "queued", _("Queued or with an agent")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class BackofficeWork(TimeStampedModel):
    """A case or a task routed to agents as work, through its back-office conversation.

    A case has at most one open (queued) back-office work at a time. ``due_at`` is the SLA due
    time the priority rises towards (a case's resolution due time; a task's own due time).
    """

    kind = models.CharField(max_length=10, choices=BackofficeKind.choices)
    case = models.ForeignKey(
        "records.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="backoffice_work"
    )
    customer = models.ForeignKey(
        "records.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="backoffice_work"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    queue = models.CharField(max_length=100)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=BackofficeStatus.choices, default=BackofficeStatus.QUEUED)
    conversation = models.OneToOneField(
        "engagement.Conversation", on_delete=models.PROTECT, related_name="backoffice_work"
    )
    outcome = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="case") | models.Q(case__isnull=False), name="backofficework_case_has_case"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="queued"), name="backofficework_one_open_per_case"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="backofficework_open_due")]

    def __str__(self) -> str:
        return f"{self.kind} work {self.pk}: {self.title}"


# The channels an out-of-hours answer can be configured for (voice: the message the caller hears).
ANSWER_CHANNELS = (Channel.CHAT, Channel.MOBILE_APP, Channel.SMS, Channel.SOCIAL, Channel.EMAIL, Channel.VOICE)


class OutOfHoursAnswer(TimeStampedModel):
    """What a contact on ``channel`` is told when it arrives while ``queue`` is closed.

    ``text`` is the answer; with ``offer_callback`` it also carries a link (or, on chat, a button) to
    book a callback for when the queue opens; with ``offer_message`` the customer is told their
    message is kept and answered when the queue opens (the contact keeps waiting in the queue).
    """

    queue = models.ForeignKey("engagement.Queue", on_delete=models.CASCADE, related_name="out_of_hours_answers")
    channel = models.CharField(max_length=20, choices=[(c.value, c.label) for c in ANSWER_CHANNELS])
    text = models.TextField(max_length=2000)
    offer_callback = models.BooleanField(default=True)
    offer_message = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["queue", "channel"]
        constraints = [models.UniqueConstraint(fields=["queue", "channel"], name="outofhoursanswer_once")]

    def __str__(self) -> str:
        return f"{self.queue} out of hours on {self.channel}"
