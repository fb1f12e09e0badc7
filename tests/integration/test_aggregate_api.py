"""GET /api/v1/customers/{id}/aggregate/: who may ask, with which token scope, and what comes back."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.integration.aggregate_support import BALANCE, connector_to, link
from tests.support import assert_error, make_customer, session_client, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_a(team_a, billing):
    customer = make_customer(team_a)
    connector_to(billing)
    link(customer, "billing", "B-1")
    return customer


def path(customer_id) -> str:
    return f"/api/v1/customers/{customer_id}/aggregate/"


def test_an_agent_sees_their_teams_customer_across_the_back_ends(agent, customer_a):
    # When
    response = session_client(agent).get(path(customer_a.pk))
    # Then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["customer_id"], body["complete"]) == (customer_a.pk, True)
    assert body["parts"] == [
        {
            "connector": "billing",
            "label": "Billing",
            "system": "billing",
            "external_id": "B-1",
            "status": "ok",
            "message": "",
            "permanent": False,
            "cached": False,
            "age_seconds": 0.0,
            "elapsed_ms": body["parts"][0]["elapsed_ms"],
            "data": {"holdings": [BALANCE]},
        }
    ]


def test_a_missing_part_says_why(agent, customer_a, billing):
    billing.set("down")
    body = session_client(agent).get(path(customer_a.pk)).json()
    assert body["complete"] is False
    assert [(p["status"], p["message"], p["data"]) for p in body["parts"]] == [
        ("error", f"billing answered 503 for {billing.url}/customers/B-1.", None)
    ]


def test_another_teams_customer_is_forbidden_and_an_unknown_one_not_found(agent_b, customer_a, billing):
    client = session_client(agent_b)
    assert_error(client.get(path(customer_a.pk)), 403, "forbidden")
    assert_error(client.get(path(customer_a.pk + 1000)), 404, "not_found")
    assert billing.calls == 0


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_supervisors_and_admins_see_it(role, request, customer_a):
    user = request.getfixturevalue("admin_user" if role == "admin" else "supervisor")
    assert session_client(user).get(path(customer_a.pk)).status_code == 200


def test_an_api_token_needs_customers_read(integration_user, customer_a):
    allowed = token_client(integration_user, scopes=["customers:read"])
    refused = token_client(integration_user, scopes=["cases:read", "customers:write"])
    assert allowed.get(path(customer_a.pk)).status_code == 200
    error = assert_error(refused.get(path(customer_a.pk)), 403)
    assert error["message"] == "This API token lacks the scope 'customers:read'."


def test_anonymous_callers_are_refused(customer_a, billing):
    assert APIClient().get(path(customer_a.pk)).status_code in (401, 403)
    assert billing.calls == 0


def test_a_deadline_may_be_asked_for_but_not_beyond_the_setting(agent, customer_a, settings):
    client = session_client(agent)
    assert client.get(path(customer_a.pk), {"deadline_ms": 500}).status_code == 200
    error = assert_error(client.get(path(customer_a.pk), {"deadline_ms": 10}), 400)
    assert "deadline_ms" in error["fields"]


def test_the_endpoint_is_in_the_openapi_schema(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    operation = schema["paths"]["/api/v1/customers/{customer_id}/aggregate/"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["customer_id", "deadline_ms"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response == {"$ref": "#/components/schemas/CustomerAggregate"}
