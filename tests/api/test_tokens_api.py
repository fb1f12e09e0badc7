"""API tokens on the REST API: scopes per resource and action, expiry, revocation, malformed headers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cea.accounts.models import ApiToken
from cea.accounts.services import api_token_create, api_token_revoke
from records.customers.models import Customer
from tests.api.conftest import ALL_SCOPES, assert_error, fill, make_customer

pytestmark = pytest.mark.django_db

REFUSED = "Invalid, expired or revoked API token."


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def assert_refused(response) -> None:
    error = assert_error(response, 401, "authentication_failed")
    assert error["message"] == REFUSED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- Scopes --------------------------------------------------------------------------------------

# (method, path template, scope needed)
SCOPED = [
    ("get", "/api/v1/customers/", "customers:read"),
    ("post", "/api/v1/customers/", "customers:write"),
    ("get", "/api/v1/customers/{customer_a}/", "customers:read"),
    ("patch", "/api/v1/customers/{customer_a}/", "customers:write"),
    ("get", "/api/v1/customers/{customer_a}/identities/", "customers:read"),
    ("post", "/api/v1/customers/{customer_a}/identities/", "customers:write"),
    ("get", "/api/v1/customers/{customer_a}/timeline/", "customers:read"),
    ("post", "/api/v1/customers/{customer_a}/merge/", "customers:write"),
    ("post", "/api/v1/lookup/", "customers:read"),
    ("get", "/api/v1/cases/", "cases:read"),
    ("post", "/api/v1/cases/", "cases:write"),
    ("get", "/api/v1/cases/{case_a}/", "cases:read"),
    ("post", "/api/v1/cases/{case_a}/transitions/", "cases:write"),
    ("post", "/api/v1/cases/{case_a}/notes/", "cases:write"),
    ("get", "/api/v1/sla-policies/", "cases:read"),
    ("get", "/api/v1/interactions/", "interactions:read"),
    ("post", "/api/v1/interactions/", "interactions:write"),
    ("get", "/api/v1/interactions/{interaction_a}/", "interactions:read"),
]


@pytest.mark.parametrize(("method", "path", "scope"), SCOPED)
def test_a_token_without_the_scope_is_refused_with_403_naming_it(
    token_client, integration_user, world, method, path, scope
):
    # Given: every scope but the one needed
    client = token_client(integration_user, scopes=[s for s in ALL_SCOPES if s != scope])
    # When
    response = getattr(client, method)(fill(path, world), {}, format="json")
    # Then
    error = assert_error(response, 403, "permission_denied")
    assert error["message"] == f"This API token lacks the scope {scope!r}."


def test_a_read_scope_cannot_write(token_client, integration_user, team_a):
    # Given
    client = token_client(integration_user, scopes=["customers:read"])
    # When
    listed = client.get("/api/v1/customers/")
    created = client.post("/api/v1/customers/", {"given_name": "Eve", "team": team_a.pk}, format="json")
    # Then
    assert listed.status_code == 200
    assert_error(created, 403, "permission_denied")
    assert Customer.objects.count() == 0


def test_a_look_up_by_post_needs_only_the_read_scope(token_client, integration_user, world):
    # Given
    client = token_client(integration_user, scopes=["customers:read"])
    # When
    response = client.post("/api/v1/lookup/", {"kind": "email", "value": "nobody@example.com"}, format="json")
    # Then
    assert (response.status_code, response.json()) == (200, [])


def test_a_write_scope_alone_cannot_read(token_client, integration_user, world):
    # Given
    client = token_client(integration_user, scopes=["customers:write"])
    # When
    response = client.get(f"/api/v1/customers/{world.customer_a.pk}/")
    # Then
    error = assert_error(response, 403, "permission_denied")
    assert error["message"] == "This API token lacks the scope 'customers:read'."


def test_an_integration_client_sees_every_team(token_client, integration_user, world):
    # Given
    client = token_client(integration_user, scopes=["customers:read", "cases:read", "interactions:read"])
    # When
    customers = client.get("/api/v1/customers/").json()
    cases = client.get("/api/v1/cases/").json()
    interactions = client.get("/api/v1/interactions/").json()
    team_b_customer = client.get(f"/api/v1/customers/{world.customer_b.pk}/")
    # Then
    assert sorted(c["id"] for c in customers["results"]) == sorted([world.customer_a.pk, world.customer_b.pk])
    assert sorted(c["id"] for c in cases["results"]) == sorted([world.case_a.pk, world.case_b.pk])
    assert interactions["count"] == 2
    assert team_b_customer.status_code == 200


def test_an_agents_token_keeps_the_agents_team_limits(token_client, agent, world):
    # Given
    client = token_client(agent, scopes=["customers:read"])
    # When
    listed = client.get("/api/v1/customers/").json()
    other = client.get(f"/api/v1/customers/{world.customer_b.pk}/")
    # Then
    assert [c["id"] for c in listed["results"]] == [world.customer_a.pk]
    assert_error(other, 403, "forbidden")


def test_an_agents_token_cannot_merge_even_with_the_write_scope(token_client, agent, world, team_a):
    # Given
    duplicate = make_customer(team_a, given_name="Alice", family_name="Smith")
    # When
    response = token_client(agent, scopes=["customers:write"]).post(
        f"/api/v1/customers/{world.customer_a.pk}/merge/", {"merged_id": duplicate.pk}, format="json"
    )
    # Then
    assert_error(response, 403, "forbidden")


# --- Unusable tokens and malformed headers -------------------------------------------------------


def test_an_expired_token_is_refused_with_401(integration_user, world):
    # Given: a token that expired a minute ago
    token, plaintext = api_token_create(
        user=integration_user,
        name="old",
        scopes=["customers:read"],
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    # When
    response = client_with(f"Bearer {plaintext}").get("/api/v1/customers/")
    # Then
    assert_refused(response)


def test_a_token_before_its_expiry_works(integration_user, world):
    # Given
    _, plaintext = api_token_create(
        user=integration_user,
        name="fresh",
        scopes=["customers:read"],
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    # When
    response = client_with(f"Bearer {plaintext}").get("/api/v1/customers/")
    # Then
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_a_revoked_token_is_refused_with_401(integration_user, world):
    # Given
    token, plaintext = api_token_create(user=integration_user, name="gone", scopes=["customers:read"])
    client = client_with(f"Bearer {plaintext}")
    assert client.get("/api/v1/customers/").status_code == 200
    # When
    api_token_revoke(token=token)
    response = client.get("/api/v1/customers/")
    # Then
    assert_refused(response)


def test_the_token_of_a_deactivated_user_is_refused_with_401(integration_user, world):
    # Given
    _, plaintext = api_token_create(user=integration_user, name="sync", scopes=["customers:read"])
    integration_user.is_active = False
    integration_user.save(update_fields=["is_active"])
    # When
    response = client_with(f"Bearer {plaintext}").get("/api/v1/customers/")
    # Then
    assert_refused(response)


def test_the_token_keyword_is_accepted_too_and_use_is_recorded(integration_user, world):
    # Given
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["customers:read"])
    # When
    response = client_with(f"Token {plaintext}").get("/api/v1/customers/")
    # Then
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer nonsense",
        "Bearer cea_0123456789ab_not-the-secret",
        "Bearer xyz_0123456789ab_secret",
        "bearer cea__",
    ],
)
def test_a_malformed_or_unknown_bearer_token_is_401(integration_user, world, header):
    # When
    response = client_with(header).get("/api/v1/customers/")
    # Then
    error = assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error["message"] in (REFUSED, "Malformed Authorization header: use 'Bearer <token>'.")


def test_a_bearer_header_without_a_token_names_the_expected_form(world):
    # When
    response = client_with("Bearer").get("/api/v1/customers/")
    # Then
    error = assert_error(response, 401, "authentication_failed")
    assert error["message"] == "Malformed Authorization header: use 'Bearer <token>'."


def test_the_right_secret_under_another_prefix_is_refused(integration_user, world):
    # Given: two tokens; the first's secret is sent with the second's prefix
    _, first = api_token_create(user=integration_user, name="one", scopes=["customers:read"])
    _, second = api_token_create(user=integration_user, name="two", scopes=["customers:read"])
    forged = "_".join([*second.split("_", 2)[:2], first.split("_", 2)[2]])
    # When
    response = client_with(f"Bearer {forged}").get("/api/v1/customers/")
    # Then
    assert_refused(response)


def test_another_authorization_scheme_is_treated_as_no_credentials(world):
    # When
    response = client_with("Basic YWRtaW46YWRtaW4=").get("/api/v1/customers/")
    # Then
    error = assert_error(response, 401, "not_authenticated")
    assert error["message"] == "Authentication credentials were not provided."
