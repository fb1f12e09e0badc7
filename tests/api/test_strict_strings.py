"""A string field takes a JSON string only: a number, a boolean or an object is refused with a 400."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", [123, 12.5, True, ["Alice"], {"name": "Alice"}])
def test_a_declared_string_field_refuses_what_is_not_a_string(token_client, admin_user, value):
    # Given an integration client of the web forms
    client = token_client(admin_user, scopes=["conversations:write"])
    form = {
        "submission_id": "wpforms-1",
        "form_id": "contact-us",
        "name": value,
        "email": "bruno@example.org",
        "subject": "Change of address",
        "message": "I moved.",
    }
    # When the name is not a string
    response = client.post("/api/v1/engagement/web-forms/submissions/", form, format="json")
    # Then it is refused, and nothing else about the form is
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"name": ["Must be a string."]}


def test_a_model_string_field_refuses_a_number(token_client, admin_user, team_a):
    # Given a client that may create customers
    client = token_client(admin_user)
    # When a customer's family name (a model CharField) is sent as a number
    response = client.post(
        "/api/v1/customers/", {"given_name": "Alice", "family_name": 42, "team": team_a.pk}, format="json"
    )
    # Then it is refused, not stored as "42"
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"family_name": ["Must be a string."]}


def test_a_nested_string_field_refuses_a_number(token_client, admin_user, team_a):
    # Given a client that may create customers
    client = token_client(admin_user)
    # When an identity's value is sent as a number
    response = client.post(
        "/api/v1/customers/",
        {"given_name": "Alice", "identities": [{"kind": "account", "value": 10023344}], "team": team_a.pk},
        format="json",
    )
    # Then it is refused where it is
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"identities": {"0": {"value": ["Must be a string."]}}}
