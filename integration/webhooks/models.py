"""Outbound webhooks: subscriptions to CEA's events, and every delivery attempt's record.

Payloads are signed with HMAC-SHA256 over ``<timestamp>.<body>`` with the subscription's secret.
A subscription that keeps failing is disabled (with the reason) until an admin enables it.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from cea.common.models import TimeStampedModel


class WebhookEvent(models.TextChoices):
    CUSTOMER_CREATED = "customer.created", "Customer created"
    CUSTOMER_UPDATED = "customer.updated", "Customer updated"
    CUSTOMER_MERGED = "customer.merged", "Customers merged"
    CASE_CREATED = "case.created", "Case created"
    CASE_UPDATED = "case.updated", "Case changed"
    INTERACTION_RECORDED = "interaction.recorded", "Interaction recorded"


class WebhookSubscription(TimeStampedModel):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Signing secret; shown once, never again")
    events = ArrayField(models.CharField(max_length=40, choices=WebhookEvent.choices), default=list)
    is_active = models.BooleanField(default=True)
    failures_in_row = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_subscriptions"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (given up)"


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhookdelivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhookdelivery_due", condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription} ({self.status})"


class WebhookRelayState(models.Model):
    """Where the relay of the journey log to webhook deliveries stands (one row).

    ``last_id``: every journey event up to it was read. ``gaps``: ids below ``last_id`` that were
    missing when it was read (``{"<id>": <unix time first missed>}``); a transaction still open
    then may commit them later, so each run looks for them again until they are older than
    ``CEA_WEBHOOK_RELAY_GAP_SECONDS`` (then they were rolled back).
    """

    last_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    relayed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Webhook relay at journey event {self.last_id}"
