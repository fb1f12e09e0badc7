from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models

ACTIVE = models.Q(released_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class LegalHold(models.Model):
    """A hold on one customer or one case: while it is active (not released), retention jobs and
    erasure leave that customer's (or case's) data alone."""

    customer = models.ForeignKey(
        "records.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    case = models.ForeignKey(
        "records.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.CharField(max_length=300)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(customer__isnull=False) & models.Q(case__isnull=True))
                | (models.Q(customer__isnull=True) & models.Q(case__isnull=False)),
                name="legal_hold_on_customer_or_case",
            ),
        ]
        indexes = [
            models.Index(fields=["customer"], condition=ACTIVE, name="legal_hold_active_customer"),
            models.Index(fields=["case"], condition=ACTIVE, name="legal_hold_active_case"),
        ]

    def __str__(self) -> str:
        target = f"customer {self.customer_id}" if self.customer_id else f"case {self.case_id}"
        return f"Legal hold on {target}"


class RetentionKind(models.TextChoices):
    TRANSCRIPTS = "transcripts", "Transcripts (interactions and conversation messages)"
    ATTACHMENTS = "attachments", "Attachments (files sent in conversations)"
    RECORDING_LINKS = "recording_links", "Call recording and transcript links"
    CONTEXT_LOG = "context_log", "Context change log"
    AUDIT = "audit", "Audit trail (history of changes)"
    ACCESS_LOG = "access_log", "Customer access log"


class RetentionAction(models.TextChoices):
    DELETE = "delete", "Delete the rows"
    BLANK = "blank", "Blank the personal content, keep the row and its figures"


# What each kind's handlers do: a transcript is blanked (the interaction keeps its times, queue, wrap-up
# and scores for the KPIs), a link is cut out of the message; files, log and history rows go.
ACTION_OF_KIND = {
    RetentionKind.TRANSCRIPTS: RetentionAction.BLANK,
    RetentionKind.ATTACHMENTS: RetentionAction.DELETE,
    RetentionKind.RECORDING_LINKS: RetentionAction.BLANK,
    RetentionKind.CONTEXT_LOG: RetentionAction.DELETE,
    RetentionKind.AUDIT: RetentionAction.DELETE,
    RetentionKind.ACCESS_LOG: RetentionAction.DELETE,
}

# The shortest retention an administrator may set: the audit trail and the access log answer
# regulators and disputes for at least a year; the rest serves quality review and complaints.
MINIMUM_KEEP_DAYS = {
    RetentionKind.AUDIT: 365,
    RetentionKind.ACCESS_LOG: 365,
}
DEFAULT_MINIMUM_KEEP_DAYS = 30


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class RetentionPolicy(models.Model):
    """How long one kind of data is kept; the nightly retention job applies the enabled ones."""

    kind = models.CharField(max_length=30, choices=RetentionKind.choices, unique=True)
    keep_days = models.PositiveIntegerField(help_text="Data older than this many days is removed.")
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind"]
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.keep_days} days{'' if self.enabled else ' (disabled)'}"

    @property
    def action(self) -> str:
        return ACTION_OF_KIND[RetentionKind(self.kind)]

    @property
    def minimum_keep_days(self) -> int:
        return MINIMUM_KEEP_DAYS.get(RetentionKind(self.kind), DEFAULT_MINIMUM_KEEP_DAYS)


class RetentionRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RetentionRun(models.Model):
    """One run of the retention job: what it removed, per kind and handler, and what it skipped."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RetentionRunStatus.choices, default=RetentionRunStatus.RUNNING)
    counts = models.JSONField(default=dict, blank=True, help_text="{kind: {handler: rows}}")
    held_customers = models.PositiveIntegerField(default=0, help_text="Customers skipped: on legal hold")
    held_cases = models.PositiveIntegerField(default=0, help_text="Cases skipped: on legal hold")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Retention run {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def total(self) -> int:
        return sum(sum(per.values()) for per in self.counts.values())
