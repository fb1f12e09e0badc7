"""Reading webhooks: a subscription's delivery log, deliveries due (who may see what: ``integration.access``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from integration.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription


def webhook_deliveries_of(*, subscription: WebhookSubscription, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """The subscription's delivery log, newest first."""
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


def webhook_deliveries_due(*, now: datetime | None = None, grace_seconds: float = 0, limit: int = 1000) -> list[int]:
    """Ids of pending deliveries of active subscriptions due ``grace_seconds`` ago or earlier, oldest first."""
    cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds)
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff, subscription__is_active=True
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
