"""Reading the journey: one customer's timeline, newest first, keyset-paginated."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from records.journey.models import JourneyEvent


def journey_timeline(
    *,
    customer_id: int,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
    kinds: list[str] | None = None,
) -> list[JourneyEvent]:
    """Up to ``limit`` events of a customer, newest first, strictly older than ``before``.

    ``before`` is the ``(occurred_at, id)`` of the last event of the previous page: keyset
    pagination walks the ``journey_customer_timeline`` index, so page 1,000 costs what page 1 does.
    Events of customers merged into this one were moved here by the merge.
    """
    events: QuerySet[JourneyEvent] = JourneyEvent.objects.filter(customer_id=customer_id)
    if kinds:
        events = events.filter(kind__in=kinds)
    if before is not None:
        occurred_at, event_id = before
        events = events.filter(Q(occurred_at__lt=occurred_at) | Q(occurred_at=occurred_at, id__lt=event_id))
    return list(events.order_by("-occurred_at", "-id")[:limit])
