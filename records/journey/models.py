from __future__ import annotations

import pgtrigger
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class JourneyEvent(models.Model):
    """One step of a customer's story: what happened, when, where, and which system said so.

    Append-only, enforced in the database: rows cannot be deleted, and an update
    may only move an event to another customer (which a merge does).
    """

    customer = models.ForeignKey("records.Customer", on_delete=models.PROTECT, related_name="journey_events")
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(auto_now_add=True)
    source_system = models.CharField(
        max_length=50, help_text="records, engagement, integration, insights, legacy:<name>"
    )
    channel = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=60, help_text="Dotted name, e.g. case.opened, interaction.recorded")
    summary = models.CharField(max_length=300)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at", "-id"], name="journey_customer_timeline")]
        triggers = [
            pgtrigger.Protect(name="journey_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="journey_append_only",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["customer"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}"
