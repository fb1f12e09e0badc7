from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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


class PiiMode(models.TextChoices):
    KEEP = "keep", "Keep as written"
    LABEL = "label", "The kind's label, e.g. [EMAIL]"
    GENERIC = "generic", "[PII]"
    PARTIAL = "partial", "First six and last four digits (cards only)"


CARD_MODE_CHOICES = [(c.value, c.label) for c in PiiMode if c is not PiiMode.KEEP]
OTHER_MODE_CHOICES = [(c.value, c.label) for c in PiiMode if c is not PiiMode.PARTIAL]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PiiPolicy(models.Model):
    """The redaction policy (one row): what replaces each kind of personal data found in messages,
    transcripts, notes and payloads at ingest (``cea.common.pii``). Card numbers are never kept in
    clear and card security codes are always removed, whatever is set here; logs always use the
    strict policy. Changed by administrators through ``pii_policy_update`` (history tracked)."""

    SINGLETON_ID = 1

    card_mode = models.CharField(max_length=10, choices=CARD_MODE_CHOICES, default=PiiMode.PARTIAL)
    iban_mode = models.CharField(max_length=10, choices=OTHER_MODE_CHOICES, default=PiiMode.LABEL)
    national_id_mode = models.CharField(max_length=10, choices=OTHER_MODE_CHOICES, default=PiiMode.LABEL)
    phone_mode = models.CharField(max_length=10, choices=OTHER_MODE_CHOICES, default=PiiMode.LABEL)
    email_mode = models.CharField(max_length=10, choices=OTHER_MODE_CHOICES, default=PiiMode.LABEL)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "PII redaction policy"
        verbose_name_plural = "PII redaction policy"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="pii_policy_singleton"),
            models.CheckConstraint(condition=~models.Q(card_mode="keep"), name="pii_policy_card_never_kept"),
        ]

    def __str__(self) -> str:
        return "PII redaction policy"


class PrivacyRequestKind(models.TextChoices):
    ERASURE = "erasure", _("Right to erasure")
    ACCESS = "access", _("Right of access")


class PrivacyRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")


# What the services write on a request after it is made (shown read-only by the console and the API).
PROCESS_FIELDS = (
    "status",
    "requested_by",
    "requested_at",
    "approved_by",
    "approved_at",
    "rejected_by",
    "rejected_at",
    "rejection_reason",
    "carried_out_by",
    "done_at",
    "result",
    "last_error",
)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PrivacyRequest(models.Model):
    """A data subject's request: erase them (anonymise everything held on them) or export it.

    requested → approved → done, or requested → rejected. The approver must not be the requester
    (four eyes). ``result`` holds the rows each registered part of personal data erased or exported,
    never personal data itself. ``last_error`` says why the last attempt to carry it out failed
    (nothing is written by a failed attempt: it runs in one transaction).
    """

    kind = models.CharField(max_length=10, choices=PrivacyRequestKind.choices)
    customer = models.ForeignKey("records.Customer", on_delete=models.PROTECT, related_name="privacy_requests")
    reason = models.CharField(max_length=300, help_text="Why: the data subject's request and how it was received.")
    status = models.CharField(
        max_length=10, choices=PrivacyRequestStatus.choices, default=PrivacyRequestStatus.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Rows per registered part of personal data")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("requested_by")),
                name="privacy_request_four_eyes",
            ),
        ]
        indexes = [models.Index(fields=["customer", "-requested_at"], name="privacy_request_customer")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk} for customer {self.customer_id}"


class PrivacyRewrite(models.Model):
    """One privileged rewrite of history made by an erasure: the append-only journey log or an audit
    (pghistory event) table. Written by ``records_journey_erase`` (the database function) and by
    the erasure service; rows are only ever added."""

    request = models.ForeignKey(PrivacyRequest, on_delete=models.PROTECT, related_name="rewrites")
    target = models.CharField(max_length=100, help_text="The table rewritten")
    rows = models.PositiveIntegerField()
    rewritten_at = models.DateTimeField(auto_now_add=True)
    db_user = models.CharField(max_length=100, blank=True, help_text="The database role that rewrote it")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.target}: {self.rows} rows (request {self.request_id})"


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
