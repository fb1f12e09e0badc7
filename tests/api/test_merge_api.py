"""REST API for merging two customers: supervisors, admins and integration clients; nothing lost."""

from __future__ import annotations

import pytest

from records.customers.models import Customer
from records.customers.services import customer_set_consent
from records.identities.models import Identity
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from tests.api.conftest import assert_error, make_case, make_customer, make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(team_a):
    """Two records of one person in team A, each with identities, a case, an interaction and a consent."""
    survivor = make_customer(team_a, given_name="Alice", family_name="Smith", email="alice@example.com")
    duplicate = make_customer(
        team_a, given_name="Alice", family_name="Smith", phone="+447911123456", city="Leeds", segment="retail"
    )
    make_case(survivor, subject="Survivor's case")
    make_case(duplicate, subject="Duplicate's case")
    make_interaction(survivor)
    make_interaction(duplicate, channel="voice")
    customer_set_consent(actor=None, customer=duplicate, channel="sms", purpose="marketing", granted=True)
    return survivor, duplicate


def merge(client, survivor_id, body):
    return client.post(f"/api/v1/customers/{survivor_id}/merge/", body, format="json")


def assert_untouched(*customers: Customer) -> None:
    for customer in customers:
        customer.refresh_from_db()
        assert (customer.status, customer.merged_into_id) == ("active", None)
    assert JourneyEvent.objects.filter(kind="customer.merged").count() == 0


# --- Who may merge -------------------------------------------------------------------------------


def test_anonymous_is_refused_with_401(anonymous, pair):
    # When
    response = merge(anonymous, pair[0].pk, {"merged_id": pair[1].pk})
    # Then
    assert_error(response, 401, "not_authenticated")
    assert_untouched(*pair)


def test_a_supervisor_merges_and_nothing_is_lost(client_for, supervisor, pair):
    # Given
    survivor, duplicate = pair
    events_before = JourneyEvent.objects.count()
    # When
    response = merge(client_for(supervisor), survivor.pk, {"merged_id": duplicate.pk})
    # Then: the survivor's 360° view holds everything
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["city"], body["segment"]) == (survivor.pk, "active", "Leeds", "retail")
    assert sorted((i["kind"], i["label"]) for i in body["identities"]) == [
        ("email", "alice@example.com"),
        ("phone", "+447911123456"),
    ]
    assert sorted(c["subject"] for c in body["open_cases"]) == ["Duplicate's case", "Survivor's case"]
    assert (body["case_count"], body["interaction_count"]) == (2, 2)
    assert [(c["channel"], c["purpose"], c["granted"]) for c in body["consents"]] == [("sms", "marketing", True)]
    # The merged-away record is a tombstone pointing to the survivor, with nothing left on it.
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("merged", survivor.pk)
    assert duplicate.merged_at is not None
    assert Identity.objects.filter(customer=duplicate).count() == 0
    assert Interaction.objects.filter(customer=duplicate).count() == 0
    assert JourneyEvent.objects.filter(customer=duplicate).count() == 0
    # Every journey event was kept, plus one saying what happened.
    assert JourneyEvent.objects.count() == events_before + 1
    event = JourneyEvent.objects.get(kind="customer.merged")
    assert event.customer_id == survivor.pk
    assert event.payload["merged_id"] == duplicate.pk
    assert event.payload["moved"] == {
        "identities": 1,
        "cases": 1,
        "interactions": 1,
        "journey_events": 5,  # created, phone identity, case, interaction, consent
        "consents": 1,
    }


def test_the_tombstone_still_resolves_and_points_to_the_survivor(client_for, supervisor, pair):
    # Given
    survivor, duplicate = pair
    client = client_for(supervisor)
    merge(client, survivor.pk, {"merged_id": duplicate.pk})
    # When
    response = client.get(f"/api/v1/customers/{duplicate.pk}/")
    timeline = client.get(f"/api/v1/customers/{survivor.pk}/timeline/").json()
    # Then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["merged_into"]) == ("merged", survivor.pk)
    assert response.json()["identities"] == []
    assert timeline["results"][0]["kind"] == "customer.merged"
    assert len(timeline["results"]) == JourneyEvent.objects.filter(customer=survivor).count()


def test_an_agent_may_not_merge(client_for, agent, pair):
    # When
    response = merge(client_for(agent), pair[0].pk, {"merged_id": pair[1].pk})
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "Only a supervisor or an administrator may merge customers."
    assert_untouched(*pair)


def test_a_supervisor_may_not_merge_a_customer_of_another_team(client_for, supervisor, pair, team_b):
    # Given
    stranger = make_customer(team_b, given_name="Alice", family_name="Smith")
    # When: in either direction
    absorbing = merge(client_for(supervisor), pair[0].pk, {"merged_id": stranger.pk})
    absorbed = merge(client_for(supervisor), stranger.pk, {"merged_id": pair[0].pk})
    # Then
    assert_error(absorbing, 403, "forbidden")
    assert_error(absorbed, 403, "forbidden")
    assert_untouched(pair[0], stranger)


def test_an_admin_merges_across_teams(client_for, admin_user, pair, team_b):
    # Given
    stranger = make_customer(team_b, given_name="Alice", family_name="Smith", email="a.smith@example.com")
    # When
    response = merge(client_for(admin_user), pair[0].pk, {"merged_id": stranger.pk})
    # Then
    assert response.status_code == 200
    stranger.refresh_from_db()
    assert (stranger.status, stranger.merged_into_id) == ("merged", pair[0].pk)


def test_an_integration_client_merges_with_the_customers_write_scope(token_client, integration_user, pair):
    # When
    read_only = merge(token_client(integration_user, scopes=["customers:read"]), pair[0].pk, {"merged_id": pair[1].pk})
    writing = merge(token_client(integration_user, scopes=["customers:write"]), pair[0].pk, {"merged_id": pair[1].pk})
    # Then
    error = assert_error(read_only, 403, "permission_denied")
    assert error["message"] == "This API token lacks the scope 'customers:write'."
    assert writing.status_code == 200
    pair[1].refresh_from_db()
    assert pair[1].status == "merged"


# --- Refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"merged_id": "alice"}, "A valid integer is required."),
        ({"merged_id": None}, "This field may not be null."),
    ],
)
def test_a_malformed_body_is_400_with_the_field(client_for, supervisor, pair, body, message):
    # When
    response = merge(client_for(supervisor), pair[0].pk, body)
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"merged_id": [message]}
    assert_untouched(*pair)


def test_a_customer_cannot_be_merged_into_itself(client_for, supervisor, pair):
    # When
    response = merge(client_for(supervisor), pair[0].pk, {"merged_id": pair[0].pk})
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"merged_id": ["Same as survivor."]}
    assert_untouched(*pair)


@pytest.mark.parametrize("unknown", ["survivor", "merged"])
def test_an_unknown_customer_is_404(client_for, supervisor, pair, unknown):
    # When
    survivor_id, merged_id = (987654, pair[1].pk) if unknown == "survivor" else (pair[0].pk, 987654)
    response = merge(client_for(supervisor), survivor_id, {"merged_id": merged_id})
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No customer with id 987654."
    assert_untouched(*pair)


def test_a_tombstone_cannot_be_merged_again(client_for, supervisor, pair, team_a):
    # Given
    survivor, duplicate = pair
    client = client_for(supervisor)
    merge(client, survivor.pk, {"merged_id": duplicate.pk})
    third = make_customer(team_a, given_name="Alice", family_name="Smyth")
    # When
    into_tombstone = merge(client, duplicate.pk, {"merged_id": third.pk})
    from_tombstone = merge(client, third.pk, {"merged_id": duplicate.pk})
    # Then
    message = f"Customer {duplicate.pk} is already merged into {survivor.pk}."
    assert assert_error(into_tombstone, 409, "conflict")["message"] == message
    assert assert_error(from_tombstone, 409, "conflict")["message"] == message
    third.refresh_from_db()
    assert third.status == "active"
