"""Reading the journey: one customer's timeline, newest first, keyset-paginated."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from cea.common.sql import fetch_models, row_mapper
from records.journey.models import JourneyEvent

_EVENT = row_mapper(JourneyEvent, "e")
_SELECT = f"SELECT {_EVENT.columns} FROM records_journeyevent e WHERE e.customer_id = %s"  # noqa: S608 - model fields
_ORDER = " ORDER BY e.occurred_at DESC, e.id DESC LIMIT %s"
# Hand-written for speed (cea/common/sql.py). The row comparison is an index condition: PostgreSQL
# walks journey_customer_timeline from the cursor and stops after ``limit`` rows.
_FIRST_PAGE = _SELECT + _ORDER
_NEXT_PAGE = _SELECT + " AND (e.occurred_at, e.id) < (%s, %s)" + _ORDER


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
    if kinds:
        events: QuerySet[JourneyEvent] = JourneyEvent.objects.filter(customer_id=customer_id, kind__in=kinds)
        if before is not None:
            occurred_at, event_id = before
            events = events.filter(
                Q(occurred_at__lte=occurred_at),
                Q(occurred_at__lt=occurred_at) | Q(occurred_at=occurred_at, id__lt=event_id),
            )
        return list(events.order_by("-occurred_at", "-id")[:limit])
    if before is None:
        return fetch_models(_EVENT, _FIRST_PAGE, [customer_id, limit])
    return fetch_models(_EVENT, _NEXT_PAGE, [customer_id, *before, limit])


def journey_events_after(*, after_id: int, limit: int, also_ids: list[int] | None = None) -> list[JourneyEvent]:
    """Events with ``id > after_id`` (at most ``limit``) and those of ``also_ids``, by id.

    For readers that follow the whole log in order (the integration layer's webhook relay).
    Ids come from a sequence in the order of inserts, not of commits: a reader keeps the ids it
    found missing and asks for them again (``also_ids``).
    """
    events = list(JourneyEvent.objects.filter(id__gt=after_id).order_by("id")[:limit])
    if also_ids:
        events.extend(JourneyEvent.objects.filter(id__in=also_ids, id__lte=after_id))
        events.sort(key=lambda event: event.pk)
    return events


def journey_last_id(*, recorded_before: datetime | None = None) -> int:
    """The highest event id (recorded before ``recorded_before`` if given), 0 when there is none."""
    events = JourneyEvent.objects.all()
    if recorded_before is not None:
        events = events.filter(recorded_at__lt=recorded_before)
    return events.order_by("-id").values_list("id", flat=True).first() or 0


def journey_events_of_kinds_between(*, kinds: list[str], start: datetime, end: datetime) -> QuerySet[JourneyEvent]:
    """Journey events of ``kinds`` that occurred in ``[start, end)`` (revenue for the lifetime value, say)."""
    return JourneyEvent.objects.filter(kind__in=kinds, occurred_at__gte=start, occurred_at__lt=end)


def journey_events_between(*, after_id: int, upto_id: int) -> QuerySet[JourneyEvent]:
    """Events with ``after_id < id <= upto_id`` (a reader that follows the log in batches, e.g. stage assignment)."""
    return JourneyEvent.objects.filter(id__gt=after_id, id__lte=upto_id)
