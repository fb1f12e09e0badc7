"""The models' features and labels: records' one SQL read against a plain Python computation over small facts,
and no fact after the cutoff leaking into the features."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.cases.models import Case
from records.customers.models import Customer
from records.features.selectors import (
    FEATURE_COLUMNS,
    customer_features_as_of,
    customers_acquiring_between,
    customers_active_between,
)
from records.holdings.models import Holding
from records.journey.models import JourneyEvent
from tests.records.factories import CaseFactory, CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

CUTOFF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def at(days: float) -> dt.datetime:
    """A moment ``days`` after the cutoff (negative: before it)."""
    return CUTOFF + days * DAY


def customer(created_days: float, **fields) -> Customer:
    made = CustomerFactory(**fields)
    Customer.objects.filter(pk=made.pk).update(created_at=at(created_days))
    return made


def contact(who: Customer, days: float, channel: str, sentiment: float | None = None) -> dict:
    InteractionFactory(
        customer=who,
        channel=channel,
        started_at=at(days),
        ended_at=at(days) + dt.timedelta(minutes=5),
        sentiment=sentiment,
    )
    return {"kind": "contact", "customer": who.pk, "at": at(days), "channel": channel, "sentiment": sentiment}


def case(who: Customer, days: float, resolved: float | None = None, closed: float | None = None) -> dict:
    made = CaseFactory(customer=who)
    Case.objects.filter(pk=made.pk).update(
        created_at=at(days),
        resolved_at=at(resolved) if resolved is not None else None,
        closed_at=at(closed) if closed is not None else None,
    )
    return {"kind": "case", "customer": who.pk, "at": at(days), "resolved": resolved, "closed": closed}


def holding(who: Customer, days: float, kind: str = "product") -> dict:
    made = Holding.objects.create(customer=who, system="crm", kind=kind, external_id=f"H-{who.pk}-{days}")
    Holding.objects.filter(pk=made.pk).update(created_at=at(days))
    return {"kind": "holding", "customer": who.pk, "at": at(days), "holding_kind": kind}


def event(who: Customer, days: float, source: str = "records", kind: str = "case.note_added") -> dict:
    JourneyEvent.objects.create(customer=who, occurred_at=at(days), kind=kind, summary="x", source_system=source)
    return {"kind": "event", "customer": who.pk, "at": at(days), "source": source}


def expected_features(who: Customer, facts: list[dict]) -> tuple[float, ...]:
    """The same features, computed in plain Python from the facts list (days before the cutoff)."""
    mine = [fact for fact in facts if fact["customer"] == who.pk and fact["at"] <= CUTOFF]
    days_ago = {id(fact): (CUTOFF - fact["at"]) / DAY for fact in mine}
    contacts = [f for f in mine if f["kind"] == "contact" and days_ago[id(f)] < 365]
    recent = [f for f in contacts if days_ago[id(f)] < 90]
    cases = [f for f in mine if f["kind"] == "case"]
    events = [f for f in mine if f["kind"] == "event" and f["source"] != "insights" and days_ago[id(f)] < 365]
    last_contact = min((days_ago[id(f)] for f in contacts), default=365.0)
    last_any = min((days_ago[id(f)] for f in contacts + cases + events), default=365.0)
    sentiments = [f["sentiment"] for f in recent if f["sentiment"] is not None]
    created = Customer.objects.get(pk=who.pk).created_at
    counted = ("voice", "chat", "email", "sms", "social")

    def after_cutoff(days: float | None) -> bool:
        return days is None or days > 0

    return (
        (CUTOFF - created) / DAY,
        min(last_contact, 365.0),
        min(last_any, 365.0),
        len(recent),
        len(contacts),
        *(sum(1 for f in recent if f["channel"] == channel) for channel in counted),
        sum(1 for f in recent if f["channel"] not in counted),
        sum(1 for f in cases if after_cutoff(f["resolved"]) and after_cutoff(f["closed"])),
        sum(1 for f in cases if days_ago[id(f)] < 90),
        sum(1 for f in cases if f["resolved"] is not None and -90 < f["resolved"] <= 0),
        sum(1 for f in mine if f["kind"] == "holding"),
        sum(sentiments) / len(sentiments) if sentiments else 0.0,
        sum(1 for f in events if days_ago[id(f)] < 90),
    )


@pytest.fixture
def facts():
    """Two customers with facts on both sides of the cutoff, one created after it, one merged."""
    busy = customer(-400, value_tier="gold")
    quiet = customer(-50)
    later = customer(10)
    merged = customer(-300, status="merged")
    rows = [
        contact(busy, -10, "voice", 0.5),
        contact(busy, -100, "chat", -1.0),
        contact(busy, -5, "sms"),
        contact(busy, -30, "web_form", 0.1),
        contact(busy, -400, "email", 0.9),  # older than the lookback
        contact(busy, 3, "email", 1.0),  # after the cutoff
        case(busy, -20, resolved=-2, closed=-1),
        case(busy, -50),
        case(busy, -120, resolved=5),  # still open at the cutoff
        case(busy, 1),  # after
        holding(busy, -30),
        holding(busy, 5),  # after: a purchase in the window
        event(busy, -1),
        event(busy, -0.5, source="insights"),  # insights' own events are not activity
        event(busy, 2),
        contact(merged, -3, "chat"),
        contact(later, 12, "chat"),
    ]
    return {"busy": busy, "quiet": quiet, "later": later, "merged": merged, "rows": rows}


def test_features_as_of_the_cutoff_match_a_plain_python_computation(facts):
    # When
    table = customer_features_as_of(as_of=CUTOFF)
    # Then only the active customers created by the cutoff, with the features Python computes
    assert table.customer_ids == [facts["busy"].pk, facts["quiet"].pk]
    assert table.value_tiers == ["gold", "standard"]
    for who, values in zip((facts["busy"], facts["quiet"]), table.values, strict=True):
        assert values == pytest.approx(expected_features(who, facts["rows"]), abs=1e-6)
    busy = dict(zip(FEATURE_COLUMNS, table.values[0], strict=True))
    assert (busy["contacts_90d"], busy["contacts_90d_other"], busy["cases_open"], busy["holdings"]) == (3, 1, 2, 1)
    assert busy["sentiment_90d"] == pytest.approx(0.3)
    assert busy["days_since_last_activity"] == pytest.approx(1.0)


def test_no_fact_after_the_cutoff_changes_the_features(facts):
    before = customer_features_as_of(as_of=CUTOFF)
    # When more happens after the cutoff
    contact(facts["quiet"], 0.5, "voice", -1.0)
    case(facts["quiet"], 0.2)
    holding(facts["quiet"], 0.1)
    event(facts["busy"], 0.01)
    # Then the features as of the cutoff are the same
    assert customer_features_as_of(as_of=CUTOFF) == before


def test_the_label_windows_read_only_what_happened_after_the_cutoff(facts):
    busy, quiet = facts["busy"], facts["quiet"]
    # Activity in (cutoff, cutoff + 30 days]: busy's contact, case and event; the later customer's contact at +12
    assert customers_active_between(after=CUTOFF, until=at(30)) == {busy.pk, facts["later"].pk}
    assert customers_active_between(after=at(3), until=at(30)) == {facts["later"].pk}
    # A new product at +5 is a purchase; the one before the cutoff is not
    assert customers_acquiring_between(after=CUTOFF, until=at(30)) == {busy.pk}
    assert customers_acquiring_between(after=at(5), until=at(30)) == set()
    # An insights-written event is not activity, a purchase event is a purchase
    event(quiet, 10, source="insights", kind="customer.scored")
    event(quiet, 11, source="integration", kind="order.placed")
    assert quiet.pk not in customers_active_between(after=at(9.5), until=at(10.5))
    assert customers_acquiring_between(after=at(9), until=at(30)) == {quiet.pk}


def test_features_of_chosen_customers_only(facts):
    table = customer_features_as_of(as_of=timezone.now(), customer_ids=[facts["quiet"].pk, facts["merged"].pk])
    assert table.customer_ids == [facts["quiet"].pk]
