"""REST API for a customer's journey timeline: newest first, cursor-paginated, filtered by kind."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone

from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from tests.api.conftest import assert_error, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_with_history(team_a):
    """A customer created now, with five earlier events a minute apart (alternating kinds)."""
    customer = make_customer(team_a)
    start = timezone.now() - dt.timedelta(days=1)
    for minute in range(1, 6):
        journey_record(
            customer=customer,
            kind="case.created" if minute % 2 else "interaction.recorded",
            summary=f"Step {minute}",
            channel="chat",
            occurred_at=start + dt.timedelta(minutes=minute),
        )
    return customer


def newest_first(customer) -> list[int]:
    return list(
        JourneyEvent.objects.filter(customer=customer).order_by("-occurred_at", "-id").values_list("id", flat=True)
    )


def walk(client, url: str, **params) -> list[list[int]]:
    """Follow ``next_cursor`` to the end; return the ids of each page."""
    pages, cursor = [], None
    while True:
        response = client.get(url, {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([event["id"] for event in body["results"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# --- Who may call --------------------------------------------------------------------------------


def test_anonymous_is_refused_with_401(anonymous):
    assert_error(anonymous.get("/api/v1/customers/1/timeline/"), 401, "not_authenticated")


def test_an_agent_of_another_team_is_refused_with_403(client_for, agent_b, customer_with_history):
    # When
    response = client_for(agent_b).get(f"/api/v1/customers/{customer_with_history.pk}/timeline/")
    # Then
    assert_error(response, 403, "forbidden")


def test_an_unknown_customer_is_404(client_for, admin_user):
    assert_error(client_for(admin_user).get("/api/v1/customers/987654/timeline/"), 404, "not_found")


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin_user"])
def test_the_team_and_an_admin_read_the_whole_timeline(client_for, request, customer_with_history, role):
    # When
    response = client_for(request.getfixturevalue(role)).get(f"/api/v1/customers/{customer_with_history.pk}/timeline/")
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [event["id"] for event in body["results"]] == newest_first(customer_with_history)
    newest, oldest = body["results"][0], body["results"][-1]
    assert (newest["kind"], newest["source_system"], newest["summary"]) == (
        "customer.created",
        "records",
        "Customer Alice Smith created",
    )
    assert (oldest["kind"], oldest["channel"], oldest["summary"], oldest["payload"]) == (
        "case.created",
        "chat",
        "Step 1",
        {},
    )


# --- Cursor pagination ---------------------------------------------------------------------------


def test_the_cursor_walks_every_event_once_newest_first(client_for, agent, customer_with_history):
    # When
    pages = walk(client_for(agent), f"/api/v1/customers/{customer_with_history.pk}/timeline/", limit=2)
    # Then
    assert [len(page) for page in pages] == [2, 2, 2]
    assert [event_id for page in pages for event_id in page] == newest_first(customer_with_history)


def test_events_at_the_same_instant_are_neither_skipped_nor_repeated(client_for, agent, team_a):
    # Given: three events at one instant, besides the creation event
    customer = make_customer(team_a)
    instant = timezone.now() - dt.timedelta(hours=1)
    for number in range(3):
        journey_record(customer=customer, kind="note.added", summary=f"Note {number}", occurred_at=instant)
    # When
    pages = walk(client_for(agent), f"/api/v1/customers/{customer.pk}/timeline/", limit=1)
    # Then
    assert [event_id for page in pages for event_id in page] == newest_first(customer)
    assert len(pages) == 4


def test_the_default_page_holds_50_events(client_for, agent, team_a):
    # Given: 54 events besides the creation event
    customer = make_customer(team_a)
    start = timezone.now() - dt.timedelta(days=2)
    for minute in range(54):
        journey_record(
            customer=customer, kind="note.added", summary="Note", occurred_at=start + dt.timedelta(minutes=minute)
        )
    # When
    pages = walk(client_for(agent), f"/api/v1/customers/{customer.pk}/timeline/")
    # Then
    assert [len(page) for page in pages] == [50, 5]


def test_the_kind_filter_keeps_only_those_kinds_across_pages(client_for, agent, customer_with_history):
    # When
    pages = walk(
        client_for(agent),
        f"/api/v1/customers/{customer_with_history.pk}/timeline/",
        kind=["case.created", "customer.created"],
        limit=2,
    )
    # Then
    wanted = JourneyEvent.objects.filter(customer=customer_with_history, kind__in=["case.created", "customer.created"])
    assert [len(page) for page in pages] == [2, 2]
    assert [event_id for page in pages for event_id in page] == list(
        wanted.order_by("-occurred_at", "-id").values_list("id", flat=True)
    )
    assert wanted.count() == 4


def test_a_kind_with_no_events_gives_an_empty_page(client_for, agent, customer_with_history):
    # When
    response = client_for(agent).get(
        f"/api/v1/customers/{customer_with_history.pk}/timeline/", {"kind": "survey.answered"}
    )
    # Then
    assert response.json() == {"results": [], "next_cursor": None}


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "not base64 at all!",
        forged("2024-01-01T00:00:00+00:00"),  # no id
        forged("2024-01-01T00:00:00+00:00|seven"),
        forged("yesterday|7"),
        forged("2024-01-01T00:00:00|7"),  # naive: the API never gives out such a cursor
        forged("a|b|c"),
        base64.urlsafe_b64encode(b"\xff\xfe|7").decode(),
    ],
)
def test_a_cursor_the_api_did_not_give_out_is_400(client_for, agent, customer_with_history, cursor):
    # When
    response = client_for(agent).get(f"/api/v1/customers/{customer_with_history.pk}/timeline/", {"cursor": cursor})
    # Then
    error = assert_error(response, 400, "invalid")
    assert error == {
        "code": "invalid",
        "message": "The cursor is not one this API gave out.",
        "fields": {"cursor": ["Invalid cursor."]},
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"kind": "k" * 61}, "kind"),
    ],
)
def test_a_malformed_query_is_400_with_the_field(client_for, agent, customer_with_history, params, field):
    # When
    response = client_for(agent).get(f"/api/v1/customers/{customer_with_history.pk}/timeline/", params)
    # Then
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == [field]
