"""Write-back: a change the CEA made that a legacy system owns, delivered from an outbox.

The message is written in the same transaction as the change, so neither exists without the
other; a worker delivers it with retries. ``key`` makes delivery idempotent at the back-end.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be delivered"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (will not be retried)"


class OutboxMessage(models.Model):
    connector = models.ForeignKey("integration.Connector", on_delete=models.PROTECT, related_name="outbox")
    customer = models.ForeignKey(
        "records.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox_messages"
    )
    kind = models.SlugField(max_length=60, help_text="e.g. address_change, payment_arrangement")
    payload = models.JSONField(default=dict)
    key = models.UUIDField(default=uuid.uuid4, unique=True, help_text="Idempotency key sent to the back-end")
    status = models.CharField(max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox_messages"
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due", condition=models.Q(status="pending")),
            models.Index(fields=["customer", "-created_at"], name="outbox_customer_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.connector} ({self.status})"
