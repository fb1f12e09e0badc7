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
