"""Journey events: validation, append-only in the database, the keyset-paginated timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.db.utils import ProgrammingError

from cea.common.errors import ValidationFailed
from records.journey.models import JourneyEvent
from records.journey.selectors import journey_timeline
from records.journey.services import journey_record
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


# --- Recording ----------------------------------------------------------------------------


def test_journey_record_keeps_what_it_is_given():
    # Given
    customer = CustomerFactory()
    # When
    event = journey_record(
        customer=customer,
        kind="order.shipped",
        summary="Order 1234 shipped",
        source_system="legacy:orders",
        channel="email",
        payload={"order": "1234", "items": 3},
        occurred_at=NOON,
    )
    # Then
    event.refresh_from_db()
    assert (event.customer_id, event.kind, event.summary, event.source_system, event.channel) == (
        customer.pk,
        "order.shipped",
        "Order 1234 shipped",
        "legacy:orders",
        "email",
    )
    assert event.payload == {"order": "1234", "items": 3}
    assert event.occurred_at == NOON
    assert event.recorded_at > NOON


def test_journey_record_defaults_and_cuts_a_long_summary():
    # Given
    customer = CustomerFactory()
    # When
    event = journey_record(customer=customer, kind="note.long", summary="x" * 350)
    # Then
    event.refresh_from_db()
    assert (event.source_system, event.channel, event.payload) == ("records", "", {})
    assert event.summary == "x" * 300
    assert event.occurred_at is not None


@pytest.mark.parametrize(
    ("kind", "summary", "fields"),
    [
        ("", "Something happened", {"kind": ["Invalid."]}),
        ("happened", "Something happened", {"kind": ["Invalid."]}),
        ("case.opened", "", {"summary": ["This field is required."]}),
        ("case.opened", "   ", {"summary": ["This field is required."]}),
    ],
    ids=["no-kind", "undotted-kind", "no-summary", "blank-summary"],
)
def test_journey_record_refuses_a_bad_kind_or_summary(kind, summary, fields):
    # Given
    customer = CustomerFactory()
    # When
    with pytest.raises(ValidationFailed) as refused:
        journey_record(customer=customer, kind=kind, summary=summary)
    # Then
    assert refused.value.fields == fields
    assert JourneyEvent.objects.count() == 0


# --- Append-only, enforced by the database ------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("occurred_at", NOON - dt.timedelta(days=1)),
        ("recorded_at", NOON - dt.timedelta(days=1)),
        ("source_system", "insights"),
        ("channel", "sms"),
        ("kind", "case.rewritten"),
        ("summary", "Rewritten history"),
        ("payload", {"forged": True}),
    ],
)
def test_the_database_refuses_to_change_an_event(column, value):
    # Given
    event = journey_record(customer=CustomerFactory(), kind="case.opened", summary="Case opened", occurred_at=NOON)
    before = JourneyEvent.objects.filter(pk=event.pk).values().get()
    # When: a bulk UPDATE, bypassing any Python code
    with pytest.raises(ProgrammingError) as refused, transaction.atomic():
        JourneyEvent.objects.filter(pk=event.pk).update(**{column: value})
    # Then
    assert "pgtrigger: Cannot update rows from records_journeyevent table" in str(refused.value)
    assert JourneyEvent.objects.filter(pk=event.pk).values().get() == before


def test_the_database_refuses_to_change_an_event_through_save():
    # Given
    event = journey_record(customer=CustomerFactory(), kind="case.opened", summary="Case opened")
    # When
    event.summary = "Something else"
    with pytest.raises(ProgrammingError), transaction.atomic():
        event.save()
    # Then
    event.refresh_from_db()
    assert event.summary == "Case opened"


def test_the_database_lets_an_event_move_to_another_customer():
    # Given: what a merge does
    first, second = CustomerFactory(), CustomerFactory()
    event = journey_record(customer=first, kind="case.opened", summary="Case opened", occurred_at=NOON)
    # When
    moved = JourneyEvent.objects.filter(pk=event.pk).update(customer=second)
    # Then
    assert moved == 1
    event.refresh_from_db()
    assert (event.customer_id, event.kind, event.occurred_at) == (second.pk, "case.opened", NOON)


def test_the_database_refuses_to_delete_an_event():
    # Given
    customer = CustomerFactory()
    event = journey_record(customer=customer, kind="case.opened", summary="Case opened")
    # When: through the queryset and through the instance
    with pytest.raises(ProgrammingError) as refused, transaction.atomic():
        JourneyEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ProgrammingError), transaction.atomic():
        event.delete()
    # Then
    assert "pgtrigger: Cannot delete rows from records_journeyevent table" in str(refused.value)
    assert list(JourneyEvent.objects.values_list("pk", flat=True)) == [event.pk]


# --- The timeline -------------------------------------------------------------------------


def _story(customer, *, crowded: int, spread: int) -> list[JourneyEvent]:
    """``crowded`` events at the same instant, in between ``spread`` events a minute apart."""
    events = []
    for minute in range(spread):
        at = NOON + dt.timedelta(minutes=minute - spread // 2)
        events.append(journey_record(customer=customer, kind="step.spread", summary=f"minute {minute}", occurred_at=at))
        if minute == spread // 2:
            events.extend(
                journey_record(customer=customer, kind="step.crowded", summary=f"same time {n}", occurred_at=NOON)
                for n in range(crowded)
            )
    return events


def _newest_first(events: list[JourneyEvent]) -> list[int]:
    return [e.pk for e in sorted(events, key=lambda e: (e.occurred_at, e.pk), reverse=True)]


def test_the_timeline_is_newest_first_and_only_the_customers():
    # Given: events recorded out of time order, and another customer's
    customer, other = CustomerFactory(), CustomerFactory()
    late = journey_record(customer=customer, kind="a.late", summary="late", occurred_at=NOON + dt.timedelta(hours=1))
    early = journey_record(customer=customer, kind="a.early", summary="early", occurred_at=NOON - dt.timedelta(hours=1))
    middle = journey_record(customer=customer, kind="a.middle", summary="middle", occurred_at=NOON)
    journey_record(customer=other, kind="a.other", summary="other", occurred_at=NOON)
    # When
    timeline = journey_timeline(customer_id=customer.pk)
    # Then
    assert [e.pk for e in timeline] == [late.pk, middle.pk, early.pk]


@pytest.mark.parametrize("page_size", [1, 4, 7, 12, 100])
def test_keyset_pages_visit_every_event_once_even_when_many_share_a_time(page_size):
    # Given: 12 events at the same instant among 9 others
    customer = CustomerFactory()
    events = _story(customer, crowded=12, spread=9)
    journey_record(customer=CustomerFactory(), kind="step.other", summary="someone else", occurred_at=NOON)
    # When: walking the pages with the last event of each as the cursor
    visited: list[int] = []
    pages = 0
    before = None
    while True:
        page = journey_timeline(customer_id=customer.pk, before=before, limit=page_size)
        if not page:
            break
        pages += 1
        assert len(page) <= page_size
        visited.extend(e.pk for e in page)
        before = (page[-1].occurred_at, page[-1].pk)
    # Then: every event once, in timeline order
    assert len(events) == 21
    assert visited == _newest_first(events)
    assert pages == -(-21 // page_size)


def test_a_page_after_the_oldest_event_is_empty():
    # Given
    customer = CustomerFactory()
    oldest = journey_record(customer=customer, kind="a.b", summary="only", occurred_at=NOON)
    # When / Then
    assert journey_timeline(customer_id=customer.pk, before=(oldest.occurred_at, oldest.pk)) == []


def test_the_kinds_filter_keeps_only_those_kinds_across_pages():
    # Given
    customer = CustomerFactory()
    events = _story(customer, crowded=6, spread=6)
    wanted = [e for e in events if e.kind == "step.crowded"]
    # When
    first = journey_timeline(customer_id=customer.pk, kinds=["step.crowded"], limit=4)
    rest = journey_timeline(
        customer_id=customer.pk, kinds=["step.crowded"], limit=4, before=(first[-1].occurred_at, first[-1].pk)
    )
    # Then
    assert [e.pk for e in first + rest] == _newest_first(wanted)
    assert {e.kind for e in journey_timeline(customer_id=customer.pk, kinds=["step.spread", "step.crowded"])} == {
        "step.spread",
        "step.crowded",
    }
    assert journey_timeline(customer_id=customer.pk, kinds=["case.opened"]) == []


def test_an_empty_kinds_filter_means_all_kinds():
    # Given
    customer = CustomerFactory()
    events = _story(customer, crowded=2, spread=3)
    # When / Then
    assert [e.pk for e in journey_timeline(customer_id=customer.pk, kinds=[])] == _newest_first(events)
