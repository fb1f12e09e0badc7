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
