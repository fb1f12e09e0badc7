"""REST API for customers: list, search, create, the 360° view, update, consents, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.cases.services import case_transition
from records.customers.models import Consent, Customer
from records.customers.services import customer_merge
from records.journey.models import JourneyEvent
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_error, fill, make_case, make_customer, make_interaction
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/customers/{customer_b}/", None),
    ("patch", "/api/v1/customers/{customer_b}/", {"city": "Leeds"}),
    ("get", "/api/v1/customers/{customer_b}/consents/", None),
    ("post", "/api/v1/customers/{customer_b}/consents/", {"channel": "email", "purpose": "marketing", "granted": True}),
    ("get", "/api/v1/customers/{customer_b}/duplicates/", None),
]


# --- Who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/api/v1/customers/"), ("post", "/api/v1/customers/")] + [e[:2] for e in ENDPOINTS]
)
def test_anonymous_requests_are_refused_with_401_and_a_bearer_challenge(anonymous, method, path):
    # When
    response = getattr(anonymous, method)(path.format(customer_b=1), {}, format="json")
    # Then
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_agent_of_another_team_is_refused_with_403(client_for, agent, world, method, path, body):
    # When: agent (team A) asks for team B's customer
    response = getattr(client_for(agent), method)(fill(path, world), body, format="json")
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "This customer belongs to a team you are not in."
    world.customer_b.refresh_from_db()
    assert world.customer_b.city == ""
    assert Consent.objects.count() == 0


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_unknown_customer_is_404(client_for, admin_user, method, path, body):
    # When
    response = getattr(client_for(admin_user), method)(path.format(customer_b=987654), body, format="json")
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No customer with id 987654."


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_the_agent_of_the_team_and_an_admin_are_served(client_for, agent_b, admin_user, world, method, path, body):
    # When: agent_b is in team B, the customer's team
    by_agent = getattr(client_for(agent_b), method)(fill(path, world), body, format="json")
    by_admin = getattr(client_for(admin_user), method)(fill(path, world), body, format="json")
    # Then
    assert (by_agent.status_code, by_admin.status_code) == (200, 200)


# --- List, search, filters, ordering, pagination ------------------------------------------------


def test_an_agent_lists_only_the_customers_of_their_teams(client_for, agent, world):
    # When
    response = client_for(agent).get("/api/v1/customers/")
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    [only] = body["results"]
    assert (only["id"], only["full_name"], only["team_name"], only["email"]) == (
        world.customer_a.pk,
        "Alice Smith",
        "Team A",
        "alice@example.com",
    )


def test_an_admin_and_a_supervisor_list_what_their_role_allows(client_for, admin_user, supervisor, world):
    # When
    by_admin = client_for(admin_user).get("/api/v1/customers/").json()
    by_supervisor = client_for(supervisor).get("/api/v1/customers/").json()
    # Then
    assert by_admin["count"] == 2
    assert [c["id"] for c in by_admin["results"]] == [world.customer_b.pk, world.customer_a.pk]  # Bianchi, Smith
    assert [c["id"] for c in by_supervisor["results"]] == [world.customer_a.pk]


def test_the_list_is_paginated_with_page_size_and_next_links(client_for, agent, team_a):
    # Given: 5 customers, family names A1..A5
    for number in range(1, 6):
        CustomerFactory(given_name="Pat", family_name=f"A{number}", team=team_a)
    client = client_for(agent)
    # When
    first = client.get("/api/v1/customers/", {"page_size": 2}).json()
    last = client.get("/api/v1/customers/", {"page_size": 2, "page": 3}).json()
    beyond = client.get("/api/v1/customers/", {"page_size": 2, "page": 4})
    # Then
    assert first["count"] == 5
    assert [c["family_name"] for c in first["results"]] == ["A1", "A2"]
    assert first["next"] == "http://testserver/api/v1/customers/?page=2&page_size=2"
    assert first["previous"] is None
    assert [c["family_name"] for c in last["results"]] == ["A5"]
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/customers/?page=2&page_size=2"
    assert_error(beyond, 404, "not_found")


def test_the_default_page_holds_50_customers(client_for, agent, team_a):
    # Given
    CustomerFactory.create_batch(51, team=team_a)
    # When
    body = client_for(agent).get("/api/v1/customers/").json()
    # Then
    assert (body["count"], len(body["results"])) == (51, 50)
    assert body["next"] == "http://testserver/api/v1/customers/?page=2"


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["Ann Adams", "Zoe Adams", "Bob Brown"]),
        ("-family_name", ["Bob Brown", "Ann Adams", "Zoe Adams"]),
        ("given_name", ["Ann Adams", "Bob Brown", "Zoe Adams"]),
        ("-id", ["Bob Brown", "Zoe Adams", "Ann Adams"]),
        ("value_tier", ["Zoe Adams", "Bob Brown", "Ann Adams"]),  # gold < platinum < standard (alphabetical)
    ],
)
def test_the_list_is_ordered_as_asked(client_for, agent, team_a, ordering, expected):
    # Given
    make_customer(team_a, given_name="Ann", family_name="Adams")
    make_customer(team_a, given_name="Zoe", family_name="Adams", value_tier="gold")
    make_customer(team_a, given_name="Bob", family_name="Brown", value_tier="platinum")
    # When
    params = {"ordering": ordering} if ordering else {}
    body = client_for(agent).get("/api/v1/customers/", params).json()
    # Then
    assert [c["full_name"] for c in body["results"]] == expected


def test_filters_narrow_the_list(client_for, admin_user, team_a, team_b):
    # Given
    gold = make_customer(team_a, given_name="Gail", family_name="Gold", value_tier="gold", segment="retail")
    make_customer(team_a, given_name="Sam", family_name="Standard", segment="retail")
    other = make_customer(team_b, given_name="Olga", family_name="Other", value_tier="gold", language="fr")
    survivor = make_customer(team_a, given_name="Sue", family_name="Survivor")
    tombstone = make_customer(team_a, given_name="Tom", family_name="Tomb")
    customer_merge(actor=None, survivor_id=survivor.pk, merged_id=tombstone.pk)
    client = client_for(admin_user)

    def ids(**params) -> list[int]:
        response = client.get("/api/v1/customers/", params)
        assert response.status_code == 200
        return sorted(c["id"] for c in response.json()["results"])

    # Then
    assert ids(value_tier="gold") == sorted([gold.pk, other.pk])
    assert ids(value_tier="gold", segment="retail") == [gold.pk]
    assert ids(team=team_b.pk) == [other.pk]
    assert ids(language="fr") == [other.pk]
    assert ids(status="merged") == [tombstone.pk]
    assert len(ids(status="active")) == 4
    assert len(ids(created_after=(timezone.now() + dt.timedelta(hours=1)).isoformat())) == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "deleted"}, "status"),
        ({"team": "blue"}, "team"),
        ({"created_after": "last tuesday"}, "created_after"),
    ],
)
def test_a_malformed_filter_is_400_with_the_field(client_for, agent, params, field):
    # When
    response = client_for(agent).get("/api/v1/customers/", params)
    # Then
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == [field]


def test_search_finds_customers_by_name_email_phone_identifier_and_id(client_for, agent, team_a, team_b):
    # Given
    alice = make_customer(
        team_a,
        given_name="Alice",
        family_name="Smith",
        email="alice@example.com",
        phone="+447911123456",
        identities=[{"kind": "account", "value": "AC-1001"}, {"kind": "national_id", "value": "AB123456C"}],
    )
    make_customer(team_a, given_name="Bob", family_name="Jones")
    make_customer(team_b, given_name="Alice", family_name="Smithers")  # not visible to the agent
    client = client_for(agent)

    def found(text: str) -> list[int]:
        response = client.get("/api/v1/customers/", {"q": text})
        assert response.status_code == 200
        return [c["id"] for c in response.json()["results"]]

    # Then
    assert found("smith") == [alice.pk]
    assert found("ALICE@example.com") == [alice.pk]
    assert found("07911 123456") == [alice.pk]  # a phone typed the national way
    assert found("ac1001") == [alice.pk]  # an account number as its kind reads it
    assert found(str(alice.pk)) == [alice.pk]
    assert found("nobody") == []
    # A national id is looked up by POST /api/v1/lookup/ only: a query string ends up in logs
    assert found("AB123456C") == []


@pytest.mark.parametrize("text", ["²", "١٢"])
def test_search_text_of_non_ascii_digits_is_not_an_error(client_for, agent, world, text):
    # When
    response = client_for(agent).get("/api/v1/customers/", {"q": text})
    # Then
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_search_text_with_a_null_character_is_400(client_for, agent):
    # When
    response = client_for(agent).get("/api/v1/customers/", {"q": "ali\x00ce"})
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"q": ["Null characters are not allowed."]}


# --- Create --------------------------------------------------------------------------------------


def test_an_agent_creates_a_customer_with_identities_and_a_journey(client_for, agent, team_a):
    # When
    response = client_for(agent).post(
        "/api/v1/customers/",
        {
            "given_name": " Carla ",
            "family_name": "Conti",
            "email": "Carla@Example.com",
            "phone": "07911 123457",
            "language": "it",
            "team": team_a.pk,
            "preferences": {"contact_time": "evening"},
            "identities": [{"kind": "social", "value": "twitter:@Carla_C"}],
        },
        format="json",
    )
    # Then
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert (body["given_name"], body["email"], body["phone"], body["team"]) == (
        "Carla",
        "carla@example.com",
        "+447911123457",
        team_a.pk,
    )
    assert body["preferences"] == {"contact_time": "evening"}
    assert sorted((i["kind"], i["label"], i["is_primary"]) for i in body["identities"]) == [
        ("email", "carla@example.com", True),
        ("phone", "+447911123457", True),
        ("social", "twitter:carla_c", False),
    ]
    assert (body["case_count"], body["interaction_count"], body["open_cases"]) == (0, 0, [])
    assert customer.created_by == agent
    assert list(JourneyEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "customer.created",
        "identity.added",
        "identity.added",
        "identity.added",
    ]


def test_an_agent_cannot_create_a_customer_in_another_team(client_for, agent, team_b):
    # When
    response = client_for(agent).post("/api/v1/customers/", {"given_name": "Eve", "team": team_b.pk}, format="json")
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "You cannot assign records to the team 'Team B': you are not in it."
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"given_name": "Bob", "email": "bob@", "language": "English", "country": "G1", "phone": "12"},
            {"email", "language", "country", "phone"},
        ),
        (
            {"given_name": "Bob", "value_tier": "diamond", "preferred_channel": "pigeon"},
            {"value_tier", "preferred_channel"},
        ),
        ({"given_name": "Bob", "team": 987654}, {"team"}),
        ({"given_name": "Bob", "date_of_birth": "31/12/1990"}, {"date_of_birth"}),
        ({"given_name": "Bob", "preferences": ["evening"]}, {"preferences"}),
        ({"given_name": "Bob", "custom_attributes": {"note": "a\x00b"}}, {"custom_attributes"}),
        ({"given_name": "Bob", "identities": [{"kind": "pager", "value": "1"}]}, {"identities"}),
        ({"given_name": "Bob", "identities": [{"kind": "phone", "value": "abc"}]}, {"value"}),
        ({"given_name": "", "family_name": " "}, {"family_name"}),
        ({"given_name": "a" * 101}, {"given_name"}),
    ],
)
def test_a_malformed_customer_is_400_with_every_bad_field_and_nothing_is_written(
    client_for, agent, team_a, body, fields
):
    # When
    response = client_for(agent).post("/api/v1/customers/", body, format="json")
    # Then
    error = assert_error(response, 400)
    assert set(error["fields"]) == fields
    assert Customer.objects.count() == 0
    assert JourneyEvent.objects.count() == 0


def test_a_body_that_is_not_an_object_is_400(client_for, agent):
    # When
    response = client_for(agent).post("/api/v1/customers/", [{"given_name": "Bob"}], format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_a_body_that_is_not_json_is_400(client_for, agent):
    # When
    response = client_for(agent).post("/api/v1/customers/", "{not json", content_type="application/json")
    # Then
    assert_error(response, 400, "parse_error")


def test_an_email_of_another_customer_is_a_409_conflict(client_for, agent, world):
    # When
    response = client_for(agent).post(
        "/api/v1/customers/", {"given_name": "Alicia", "email": "ALICE@example.com"}, format="json"
    )
    # Then
    error = assert_error(response, 409, "identity_taken")
    assert error["fields"] == {"email": ["Already in use by another customer."]}
    assert Customer.objects.count() == 2


# --- The 360° view and update --------------------------------------------------------------------


def test_the_360_view_shows_identities_consents_and_open_cases(client_for, agent, world):
    # Given: one more case, resolved, and one more interaction
    resolved = make_case(world.customer_a, subject="Bill too high")
    case_transition(actor=None, case=resolved, transition="resolve")
    make_interaction(world.customer_a)
    # When
    response = client_for(agent).get(f"/api/v1/customers/{world.customer_a.pk}/")
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["full_name"], body["status"], body["merged_into"]) == (
        world.customer_a.pk,
        "Alice Smith",
        "active",
        None,
    )
    assert [(i["kind"], i["label"]) for i in body["identities"]] == [("email", "alice@example.com")]
    assert [c["reference"] for c in body["open_cases"]] == [world.case_a.reference]
    assert (body["case_count"], body["interaction_count"]) == (2, 2)


def test_an_agent_updates_a_profile_and_the_journey_lists_the_fields(client_for, agent, world):
    # When
    response = client_for(agent).patch(
        f"/api/v1/customers/{world.customer_a.pk}/",
        {"city": "Leeds", "value_tier": "gold", "country": "gb", "family_name": "Smith"},
        format="json",
    )
    # Then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["city"], body["value_tier"], body["country"], body["family_name"]) == ("Leeds", "gold", "GB", "Smith")
    event = JourneyEvent.objects.filter(customer=world.customer_a, kind="customer.updated").get()
    assert sorted(event.payload["fields"]) == ["city", "country", "value_tier"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"language": "English"}, {"language"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"value_tier": "diamond"}, {"value_tier"}),
        ({"team": "blue"}, {"team"}),
        ({"preferences": {"\x00": 1}}, {"preferences"}),
    ],
)
def test_a_malformed_update_is_400_and_changes_nothing(client_for, agent, world, body, fields):
    # When
    response = client_for(agent).patch(f"/api/v1/customers/{world.customer_a.pk}/", body, format="json")
    # Then
    error = assert_error(response, 400)
    assert set(error["fields"]) == fields
    world.customer_a.refresh_from_db()
    assert (world.customer_a.language, world.customer_a.email) == ("en", "alice@example.com")


def test_an_agent_cannot_move_a_customer_to_another_team(client_for, agent, world, team_b):
    # When
    response = client_for(agent).patch(f"/api/v1/customers/{world.customer_a.pk}/", {"team": team_b.pk}, format="json")
    # Then
    assert_error(response, 403, "forbidden")
    world.customer_a.refresh_from_db()
    assert world.customer_a.team.name == "Team A"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_an_agent_or_supervisor_cannot_leave_a_customer_without_a_team(client_for, request, world, role):
    # Given
    client = client_for(request.getfixturevalue(role))
    # When: a customer without a team would be hidden from every team
    updated = client.patch(f"/api/v1/customers/{world.customer_a.pk}/", {"team": None}, format="json")
    created = client.post("/api/v1/customers/", {"given_name": "Eve", "team": None}, format="json")
    # Then
    for response in (updated, created):
        error = assert_error(response, 403, "forbidden")
        assert error["message"] == "Only an administrator can leave a record without a team."
    world.customer_a.refresh_from_db()
    assert world.customer_a.team.name == "Team A"
    assert Customer.objects.count() == 2


def test_a_customer_an_agent_creates_without_a_team_goes_to_the_agents_team(client_for, agent, team_a):
    # When
    response = client_for(agent).post("/api/v1/customers/", {"given_name": "Eve"}, format="json")
    # Then: the agent still sees the customer they made
    assert response.status_code == 201, response.content
    assert (response.json()["team"], response.json()["team_name"]) == (team_a.pk, "Team A")


def test_an_agent_in_several_teams_must_choose_the_customers_team(client_for, team_a, team_b):
    # Given
    both = UserFactory(username="agent.ab", role="agent", teams=[team_a, team_b])
    # When
    response = client_for(both).post("/api/v1/customers/", {"given_name": "Eve"}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"team": ["Choose one of your teams."]}
    assert Customer.objects.count() == 0


def test_an_admin_may_leave_a_customer_without_a_team(client_for, admin_user, world):
    # When
    response = client_for(admin_user).patch(f"/api/v1/customers/{world.customer_a.pk}/", {"team": None}, format="json")
    # Then
    assert (response.status_code, response.json()["team"]) == (200, None)


def test_an_admin_moves_a_customer_to_another_team(client_for, admin_user, world, team_b):
    # When
    response = client_for(admin_user).patch(
        f"/api/v1/customers/{world.customer_a.pk}/", {"team": team_b.pk}, format="json"
    )
    # Then
    assert response.status_code == 200
    assert (response.json()["team"], response.json()["team_name"]) == (team_b.pk, "Team B")


def test_a_merged_customer_cannot_be_updated(client_for, admin_user, world, team_a):
    # Given
    survivor = make_customer(team_a, given_name="Alice", family_name="Smyth")
    customer_merge(actor=None, survivor_id=survivor.pk, merged_id=world.customer_a.pk)
    # When
    response = client_for(admin_user).patch(
        f"/api/v1/customers/{world.customer_a.pk}/", {"city": "Leeds"}, format="json"
    )
    # Then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == f"Customer {world.customer_a.pk} was merged into {survivor.pk}; edit that one."


# --- Consents ------------------------------------------------------------------------------------


def test_consent_is_recorded_and_listed(client_for, agent, world):
    # Given
    client = client_for(agent)
    url = f"/api/v1/customers/{world.customer_a.pk}/consents/"
    # When
    granted = client.post(
        url,
        {
            "channel": "sms",
            "purpose": "marketing",
            "granted": True,
            "given_at": "2024-03-01T09:00:00Z",
            "source": "web",
        },
        format="json",
    )
    withdrawn = client.post(url, {"channel": "sms", "purpose": "marketing", "granted": False}, format="json")
    listed = client.get(url)
    # Then
    assert granted.status_code == 200
    assert granted.json() == {
        "channel": "sms",
        "purpose": "marketing",
        "granted": True,
        "given_at": "2024-03-01T09:00:00Z",
        "source": "web",
    }
    assert withdrawn.json()["granted"] is False
    assert [(c["channel"], c["purpose"], c["granted"]) for c in listed.json()] == [("sms", "marketing", False)]
    assert JourneyEvent.objects.filter(customer=world.customer_a, kind="consent.changed").count() == 2


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"channel": "pigeon", "purpose": "marketing", "granted": True}, {"channel"}),
        ({"channel": "sms", "purpose": "spam", "granted": True}, {"purpose"}),
        ({"channel": "sms", "purpose": "marketing"}, {"granted"}),
        ({"channel": "sms", "purpose": "marketing", "granted": True, "given_at": "2999-01-01T00:00:00Z"}, {"given_at"}),
    ],
)
def test_a_malformed_consent_is_400(client_for, agent, world, body, fields):
    # When
    response = client_for(agent).post(f"/api/v1/customers/{world.customer_a.pk}/consents/", body, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert Consent.objects.count() == 0


# --- Duplicates ----------------------------------------------------------------------------------


def test_duplicate_candidates_are_ranked_and_limited_to_visible_customers(client_for, agent, team_a, team_b):
    # Given
    alice = make_customer(
        team_a, given_name="Alice", family_name="Smith", date_of_birth=dt.date(1990, 5, 17), postcode="LS1 4AP"
    )
    twin = make_customer(
        team_a, given_name="Alice", family_name="Smith", date_of_birth=dt.date(1990, 5, 17), postcode="ls14ap"
    )
    namesake = make_customer(team_a, given_name="Alice", family_name="Smith")
    make_customer(team_b, given_name="Alice", family_name="Smith")  # another team's: not shown
    make_customer(team_a, given_name="Zed", family_name="Zimmer")
    # When
    response = client_for(agent).get(f"/api/v1/customers/{alice.pk}/duplicates/")
    # Then
    assert response.status_code == 200
    candidates = response.json()
    assert [c["customer"]["id"] for c in candidates] == [twin.pk, namesake.pk]
    assert candidates[0]["reasons"] == ["similar name (1.00), same date of birth, same postcode"]
    assert candidates[0]["score"] == pytest.approx(0.8)
    assert candidates[1]["reasons"] == ["similar name (1.00)"]
    assert candidates[1]["score"] == pytest.approx(0.3)
