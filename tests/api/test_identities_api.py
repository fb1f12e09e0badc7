"""REST API for identities and for finding customers from an identifier (look-up)."""

from __future__ import annotations

import pytest

from cea.common.pii import redact_text
from records.identities.models import Identity
from records.identities.services import identity_add
from records.journey.models import JourneyEvent
from tests.api.conftest import assert_error, fill, make_customer

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/customers/{customer_b}/identities/", None),
    ("post", "/api/v1/customers/{customer_b}/identities/", {"kind": "device", "value": "thermostat-9"}),
    ("delete", "/api/v1/customers/{customer_b}/identities/{identity_b}/", None),
]


# --- Who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [e[:2] for e in ENDPOINTS] + [("post", "/api/v1/lookup/")])
def test_anonymous_requests_are_refused_with_401(anonymous, method, path):
    # When
    response = getattr(anonymous, method)(path.format(customer_b=1, identity_b=1), {}, format="json")
    # Then
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_agent_of_another_team_is_refused_with_403(client_for, agent, world, method, path, body):
    # When
    response = getattr(client_for(agent), method)(fill(path, world), body, format="json")
    # Then
    assert_error(response, 403, "forbidden")
    assert list(world.customer_b.identities.values_list("kind", flat=True)) == ["email"]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_unknown_customer_is_404(client_for, admin_user, world, method, path, body):
    # When
    response = getattr(client_for(admin_user), method)(
        path.format(customer_b=987654, identity_b=world.identity_b.pk), body, format="json"
    )
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No customer with id 987654."


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), [(*e, s) for e, s in zip(ENDPOINTS, (200, 201, 204), strict=True)]
)
def test_the_agent_of_the_team_is_served(client_for, agent_b, world, method, path, body, status):
    # When: agent_b is in team B, the customer's team
    response = getattr(client_for(agent_b), method)(fill(path, world), body, format="json")
    # Then
    assert response.status_code == status


# --- List, add, remove ---------------------------------------------------------------------------


def test_identities_are_listed_by_kind(client_for, admin_user, team_a):
    # Given
    customer = make_customer(
        team_a,
        email="carla@example.com",
        phone="+447911123456",
        identities=[{"kind": "account", "value": "ac-77"}, {"kind": "national_id", "value": "AB 12 34 56 C"}],
    )
    # When
    response = client_for(admin_user).get(f"/api/v1/customers/{customer.pk}/identities/")
    # Then
    assert response.status_code == 200
    assert [(i["kind"], i["label"], i["is_primary"]) for i in response.json()] == [
        ("account", "AC77", False),
        ("email", "carla@example.com", True),
        ("national_id", "•••56C", False),
        ("phone", "+447911123456", True),
    ]


def test_an_agent_adds_an_identity_in_its_normal_form(client_for, agent, world):
    # When
    response = client_for(agent).post(
        f"/api/v1/customers/{world.customer_a.pk}/identities/",
        {"kind": "phone", "value": "07911 123456", "is_primary": True},
        format="json",
    )
    # Then
    assert response.status_code == 201, response.content
    body = response.json()
    identity = Identity.objects.get(pk=body["id"])
    assert (body["kind"], body["label"], body["is_primary"]) == ("phone", "+447911123456", True)
    assert body["verified_at"] is None
    assert (identity.customer_id, identity.value) == (world.customer_a.pk, "+447911123456")
    event = JourneyEvent.objects.filter(customer=world.customer_a, kind="identity.added").latest("id")
    # The journey log holds the label as the redaction policy writes a phone number ([PHONE] by default).
    assert event.payload == {"identity_id": identity.pk, "kind": "phone", "label": redact_text("+447911123456")}
    assert event.payload["label"] != "+447911123456"


@pytest.mark.parametrize("path", ["/api/v1/customers/{customer_a}/identities/", "/api/v1/customers/"])
def test_a_client_cannot_mark_an_identity_verified(client_for, token_client, agent, integration_user, world, path):
    # Given
    identity = {"kind": "phone", "value": "07911 123456", "verified": True}
    body = (
        identity
        if "identities" in path
        else {"given_name": "Eve", "team": world.customer_a.team_id, "identities": [identity]}
    )
    for client in (client_for(agent), token_client(integration_user)):
        # When
        response = client.post(fill(path, world), body, format="json")
        # Then
        error = assert_error(response, 400, "invalid")
        assert error["message"] == "An identity is verified by the customer proving it, never by a client."
        assert error["fields"] == {"verified": ["Cannot be set by a client."]}
    assert not Identity.objects.filter(kind="phone").exists()
    assert not JourneyEvent.objects.filter(kind="identity.added", payload__kind="phone").exists()


def test_adding_an_identity_the_customer_already_has_returns_it(client_for, agent, world):
    # When
    response = client_for(agent).post(
        f"/api/v1/customers/{world.customer_a.pk}/identities/",
        {"kind": "email", "value": "ALICE@example.com"},
        format="json",
    )
    # Then
    assert response.status_code == 201
    assert response.json()["id"] == world.identity_a.pk
    assert world.customer_a.identities.count() == 1


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"kind": "pager", "value": "1234"}, "invalid", {"kind"}),
        ({"kind": "phone"}, "invalid", {"value"}),
        ({"kind": "phone", "value": "not a number"}, "invalid_phone", {"value"}),
        ({"kind": "email", "value": "alice@"}, "invalid_email", {"value"}),
        ({"kind": "social", "value": "myspace:alice"}, "invalid_social", {"value"}),
        ({"kind": "device", "value": "dev\x00ice"}, "invalid", {"value"}),
        ({"kind": "device", "value": "x", "is_primary": "perhaps"}, "invalid", {"is_primary"}),
    ],
)
def test_a_malformed_identity_is_400_with_the_field(client_for, agent, world, body, code, fields):
    # When
    response = client_for(agent).post(f"/api/v1/customers/{world.customer_a.pk}/identities/", body, format="json")
    # Then
    error = assert_error(response, 400, code)
    assert set(error["fields"]) == fields
    assert world.customer_a.identities.count() == 1


def test_an_identity_of_another_customer_is_a_409_conflict(client_for, admin_user, world):
    # When: bruno@example.com identifies customer B
    response = client_for(admin_user).post(
        f"/api/v1/customers/{world.customer_a.pk}/identities/",
        {"kind": "email", "value": "Bruno@Example.com"},
        format="json",
    )
    # Then
    error = assert_error(response, 409, "identity_taken")
    assert error["message"] == "This email already identifies another customer."
    assert error["fields"] == {"value": ["Already in use by another customer."]}


def test_a_409_never_names_a_customer_the_agent_may_not_see(client_for, agent, world):
    # When: agent A adds to Alice an email of Bruno, a team B customer
    response = client_for(agent).post(
        f"/api/v1/customers/{world.customer_a.pk}/identities/",
        {"kind": "email", "value": "bruno@example.com"},
        format="json",
    )
    # Then: taken, without Bruno's id anywhere
    error = assert_error(response, 409, "identity_taken")
    assert error == {
        "code": "identity_taken",
        "message": "This email already identifies another customer.",
        "fields": {"value": ["Already in use by another customer."]},
    }
    assert str(world.customer_b.pk) not in response.content.decode()


def test_an_agent_removes_an_identity(client_for, agent, world):
    # Given
    device = identity_add(actor=None, customer=world.customer_a, kind="device", value="thermostat-1")
    # When
    response = client_for(agent).delete(f"/api/v1/customers/{world.customer_a.pk}/identities/{device.pk}/")
    # Then
    assert response.status_code == 204
    assert response.content == b""
    assert not Identity.objects.filter(pk=device.pk).exists()
    event = JourneyEvent.objects.filter(customer=world.customer_a, kind="identity.removed").get()
    assert event.summary == "Device id thermostat-1 removed"


def test_removing_another_customers_identity_through_this_customer_is_404(client_for, admin_user, world):
    # When: identity B is addressed under customer A
    response = client_for(admin_user).delete(
        f"/api/v1/customers/{world.customer_a.pk}/identities/{world.identity_b.pk}/"
    )
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == f"Customer {world.customer_a.pk} has no identity {world.identity_b.pk}."
    assert Identity.objects.filter(pk=world.identity_b.pk).exists()


def test_the_primary_identity_cannot_be_removed_while_others_of_its_kind_exist(client_for, agent, world):
    # Given
    identity_add(actor=None, customer=world.customer_a, kind="email", value="alice.smith@work.example")
    # When
    response = client_for(agent).delete(f"/api/v1/customers/{world.customer_a.pk}/identities/{world.identity_a.pk}/")
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"is_primary": ["Cannot remove the primary identifier while others exist."]}
    assert world.customer_a.identities.count() == 2


# --- Look-up -------------------------------------------------------------------------------------


@pytest.fixture
def look_up_world(team_a, team_b):
    """ACC123 is Alice's account number and Bruno's device id: one value, two customers in two teams."""
    alice = make_customer(
        team_a, given_name="Alice", phone="+447911123456", identities=[{"kind": "account", "value": "acc-123"}]
    )
    bruno = make_customer(team_b, given_name="Bruno", identities=[{"kind": "device", "value": "ACC123"}])
    return alice, bruno


def test_look_up_by_kind_reads_the_value_as_that_kind(client_for, agent, look_up_world):
    # Given
    alice, _ = look_up_world
    # When: a phone number typed the national way
    response = client_for(agent).post("/api/v1/lookup/", {"kind": "phone", "value": "07911 123456"}, format="json")
    # Then
    assert response.status_code == 200
    [match] = response.json()
    assert (match["kind"], match["customer"]["id"], match["customer"]["given_name"]) == ("phone", alice.pk, "Alice")


def test_look_up_by_kind_finds_only_that_kind(client_for, admin_user, look_up_world):
    # Given
    _, bruno = look_up_world
    # When
    response = client_for(admin_user).post("/api/v1/lookup/", {"kind": "device", "value": "ACC123"}, format="json")
    # Then
    assert [(m["kind"], m["customer"]["id"]) for m in response.json()] == [("device", bruno.pk)]


def test_look_up_without_kind_returns_every_match(client_for, admin_user, look_up_world):
    # Given
    alice, bruno = look_up_world
    # When
    response = client_for(admin_user).post("/api/v1/lookup/", {"value": "ACC123"}, format="json")
    # Then: never guessed between
    assert response.status_code == 200
    assert sorted((m["kind"], m["customer"]["id"]) for m in response.json()) == [
        ("account", alice.pk),
        ("device", bruno.pk),
    ]


def test_look_up_returns_only_the_customers_the_user_may_see(client_for, agent, agent_b, look_up_world):
    # Given
    alice, bruno = look_up_world
    # When
    seen_by_a = client_for(agent).post("/api/v1/lookup/", {"value": "ACC123"}, format="json").json()
    seen_by_b = client_for(agent_b).post("/api/v1/lookup/", {"value": "ACC123"}, format="json").json()
    hidden = client_for(agent).post("/api/v1/lookup/", {"kind": "device", "value": "ACC123"}, format="json")
    # Then
    assert [(m["kind"], m["customer"]["id"]) for m in seen_by_a] == [("account", alice.pk)]
    assert [(m["kind"], m["customer"]["id"]) for m in seen_by_b] == [("device", bruno.pk)]
    assert (hidden.status_code, hidden.json()) == (200, [])


def test_look_up_of_an_unknown_identifier_is_an_empty_list(client_for, agent, look_up_world):
    # When
    by_kind = client_for(agent).post("/api/v1/lookup/", {"kind": "email", "value": "nobody@example.com"}, format="json")
    any_kind = client_for(agent).post("/api/v1/lookup/", {"value": "nobody@example.com"}, format="json")
    # Then
    assert (by_kind.status_code, by_kind.json()) == (200, [])
    assert (any_kind.status_code, any_kind.json()) == (200, [])


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"value"}),
        ({"value": ""}, {"value"}),
        ({"value": "x" * 256}, {"value"}),
        ({"value": "abc", "kind": "pager"}, {"kind"}),
        ({"value": "not a phone", "kind": "phone"}, {"value"}),
        ({"value": "ab\x00c"}, {"value"}),
    ],
)
def test_a_malformed_look_up_is_400_with_the_field(client_for, agent, params, fields):
    # When
    response = client_for(agent).post("/api/v1/lookup/", params, format="json")
    # Then
    error = assert_error(response, 400)
    assert set(error["fields"]) == fields


def test_look_up_by_national_id_takes_it_in_the_post_body(client_for, agent, look_up_world):
    # Given
    alice, _ = look_up_world
    identity_add(actor=None, customer=alice, kind="national_id", value="AB123456C")
    # When
    response = client_for(agent).post(
        "/api/v1/lookup/", {"kind": "national_id", "value": "ab 12 34 56 c"}, format="json"
    )
    # Then
    assert response.status_code == 200, response.content
    assert [(m["kind"], m["customer"]["id"]) for m in response.json()] == [("national_id", alice.pk)]


@pytest.mark.parametrize("params", [{"kind": "national_id", "value": "AB123456C"}, {"value": "ACC123"}, {}])
def test_a_look_up_in_the_query_string_is_refused_with_405_saying_to_post(client_for, agent, look_up_world, params):
    # When
    response = client_for(agent).get("/api/v1/lookup/", params)
    # Then
    error = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"].split(", ") == ["POST", "OPTIONS"]
    assert error["message"] == (
        'Send the identifier in the body of a POST to this address ({"value": …, "kind": …}), never in the '
        "query string: addresses are kept in logs and browser histories."
    )
