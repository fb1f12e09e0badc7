from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cea.common.models import TimeStampedModel


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class CaseTransition(models.TextChoices):
    OPEN = "open", pgettext_lazy("case transition", "Open")
    PEND = "pend", _("Set pending")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")
    REOPEN = "reopen", _("Reopen")


# The state machine: for each transition, the statuses it may start from and where it goes.
TRANSITIONS: dict[CaseTransition, tuple[frozenset[CaseStatus], CaseStatus]] = {
    CaseTransition.OPEN: (frozenset({CaseStatus.NEW, CaseStatus.PENDING}), CaseStatus.OPEN),
    CaseTransition.PEND: (frozenset({CaseStatus.OPEN}), CaseStatus.PENDING),
    CaseTransition.RESOLVE: (frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING}), CaseStatus.RESOLVED),
    CaseTransition.CLOSE: (frozenset({CaseStatus.RESOLVED}), CaseStatus.CLOSED),
    CaseTransition.REOPEN: (frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED}), CaseStatus.OPEN),
}


def transitions_from(status: str) -> list[CaseTransition]:
    """The transitions allowed from ``status``, in the order a user would read them."""
    return [transition for transition, (sources, _) in TRANSITIONS.items() if status in sources]


class CaseCategory(models.TextChoices):
    GENERAL = "general", _("General enquiry")
    BILLING = "billing", _("Billing")
    TECHNICAL = "technical", _("Technical fault")
    ACCOUNT = "account", _("Account change")
    ORDER = "order", _("Order and delivery")
    COMPLAINT = "complaint", _("Complaint")


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SlaPolicy(TimeStampedModel):
    """Targets for a case: first response and resolution, in minutes of calendar time.

    A case takes the active default policy of its priority unless one is chosen.
    """

    name = models.CharField(max_length=100, unique=True)
    priority = models.CharField(max_length=10, choices=CasePriority.choices)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    is_default_for_priority = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["priority"],
                condition=models.Q(is_default_for_priority=True),
                name="sla_one_default_per_priority",
            ),
            models.CheckConstraint(
                condition=models.Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="sla_resolution_after_first_response",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Case(TimeStampedModel):
    """A service request: what the customer needs done, its status, SLA and owner."""

    reference = models.CharField(max_length=20, unique=True, editable=False)
    customer = models.ForeignKey("records.Customer", on_delete=models.PROTECT, related_name="cases")
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=CaseCategory.choices, default=CaseCategory.GENERAL)
    priority = models.CharField(max_length=10, choices=CasePriority.choices, default=CasePriority.NORMAL)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW, db_index=True)

    sla_policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="case_customer_recent"),
            models.Index(fields=["team", "status"], name="case_team_status"),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            # The SLA sweep looks only at cases still running against a due time.
            models.Index(
                fields=["resolution_due_at"],
                condition=models.Q(status__in=["new", "open", "pending"]),
                name="case_open_resolution_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"


class NoteVisibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    EXTERNAL = "external", _("External (shared with the customer)")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CaseNote(TimeStampedModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    visibility = models.CharField(max_length=10, choices=NoteVisibility.choices, default=NoteVisibility.INTERNAL)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.pk} on {self.case_id}"
