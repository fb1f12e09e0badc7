"""Reading the outbox: a customer's write-backs (for the desktop), messages due."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from integration.outbox.models import OutboxMessage, OutboxStatus
from records.customers.models import Customer


def outbox_for_customer(*, customer: Customer, limit: int = 20) -> QuerySet[OutboxMessage]:
    """The customer's most recent write-backs with their connector, newest first (the desktop shows their status)."""
    return (
        OutboxMessage.objects.filter(customer=customer)
        .select_related("connector")
        .order_by("-created_at", "-id")[:limit]
    )


def outbox_due(*, now: datetime | None = None, grace_seconds: float = 0, limit: int = 500) -> list[int]:
    """Ids of pending messages due ``grace_seconds`` ago or earlier, oldest first."""
    cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds)
    return list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
