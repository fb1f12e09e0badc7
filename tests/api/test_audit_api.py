"""REST API for the audit trail of a customer or a case: who changed what, when (supervisors and admins)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.cases.services import case_mark_breaches
from tests.api.conftest import assert_error, fill, make_case, make_customer
from tests.records.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/customers/{customer_b}/audit/", "/api/v1/cases/{case_b}/audit/"]


def summary(entries: list[dict]) -> list[tuple]:
    """(label, model, username, url) of each entry, sorted: in a test every event shares one transaction time."""
    return sorted((e["label"], e["model"], e["username"], e["url"]) for e in entries)


# --- Who may read --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_is_refused_with_401(anonymous, path):
    assert_error(anonymous.get(path.format(customer_b=1, case_b=1)), 401, "not_authenticated")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_agent_of_the_team_may_not_read_the_audit_trail(client_for, agent_b, world, path):
    # When
    response = client_for(agent_b).get(fill(path, world))
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "Only a supervisor or an administrator may read the audit trail."


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_supervisor_of_another_team_may_not_read_it(client_for, supervisor, world, path):
    # When: supervisor is in team A, the records are team B's
    response = client_for(supervisor).get(fill(path, world))
    # Then
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_record_is_404(client_for, admin_user, path):
    assert_error(client_for(admin_user).get(path.format(customer_b=987654, case_b=987654)), 404, "not_found")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_admin_reads_any_teams_audit_trail(client_for, admin_user, world, path):
    # When
    response = client_for(admin_user).get(fill(path, world))
    # Then: the system made these records (no user)
    assert response.status_code == 200
    entries = response.json()
    assert entries
    assert {(e["user_id"], e["username"], e["url"]) for e in entries} == {(None, None, None)}


# --- What the trail says -------------------------------------------------------------------------


def test_the_customer_trail_says_who_changed_what_through_which_call(client_for, agent, supervisor, team_a):
    # Given: an agent creates a customer, changes the city, opens a case
    client = client_for(agent)
    customer_id = client.post(
        "/api/v1/customers/",
        {"given_name": "Al", "family_name": "Smith", "email": "al@example.com", "team": team_a.pk},
        format="json",
    ).json()["id"]
    client.patch(f"/api/v1/customers/{customer_id}/", {"city": "Leeds"}, format="json")
    client.post("/api/v1/cases/", {"customer": customer_id, "subject": "Hi"}, format="json")
    # When
    response = client_for(supervisor).get(f"/api/v1/customers/{customer_id}/audit/")
    # Then
    assert response.status_code == 200
    entries = response.json()
    assert summary(entries) == [
        ("insert", "records.CaseEvent", "agent.a", "/api/v1/cases/"),
        ("insert", "records.CustomerEvent", "agent.a", "/api/v1/customers/"),
        ("insert", "records.IdentityEvent", "agent.a", "/api/v1/customers/"),
        ("update", "records.CustomerEvent", "agent.a", f"/api/v1/customers/{customer_id}/"),
    ]
    [update] = [e for e in entries if e["label"] == "update"]
    assert (update["object_id"], update["user_id"], update["changes"]) == (
        str(customer_id),
        agent.pk,
        {"city": ["", "Leeds"]},
    )
    [insert] = [e for e in entries if e["model"] == "records.CustomerEvent" and e["label"] == "insert"]
    assert insert["changes"]["email"] == [None, "al@example.com"]
    assert insert["changes"]["team_id"] == [None, team_a.pk]
    assert "updated_at" not in insert["changes"]


def test_the_case_trail_shows_each_transition(client_for, agent, supervisor, world):
    # Given
    client = client_for(agent)
    for transition in ("open", "resolve"):
        client.post(f"/api/v1/cases/{world.case_a.reference}/transitions/", {"transition": transition}, format="json")
    # When
    response = client_for(supervisor).get(f"/api/v1/cases/{world.case_a.reference}/audit/")
    # Then
    assert response.status_code == 200
    entries = response.json()
    url = f"/api/v1/cases/{world.case_a.reference}/transitions/"
    assert summary(entries) == [
        ("insert", "records.CaseEvent", None, None),
        ("update", "records.CaseEvent", "agent.a", url),
        ("update", "records.CaseEvent", "agent.a", url),
    ]
    statuses = sorted(tuple(e["changes"]["status"]) for e in entries if e["label"] == "update")
    assert statuses == [("new", "open"), ("open", "resolved")]


def test_bulk_updates_are_in_the_trail(client_for, supervisor, team_a):
    # Given: the SLA sweep flags breaches with one set-based UPDATE
    SlaPolicyFactory(name="Normal", priority="normal", first_response_minutes=60, resolution_minutes=1440)
    case = make_case(make_customer(team_a))
    assert case_mark_breaches(now=timezone.now() + dt.timedelta(days=2)) == 2
    # When
    entries = client_for(supervisor).get(f"/api/v1/cases/{case.pk}/audit/").json()
    # Then
    updates = [e for e in entries if e["label"] == "update"]
    assert sorted(tuple(sorted(e["changes"])) for e in updates) == [
        ("first_response_breached",),
        ("resolution_breached",),
    ]
    assert {(e["user_id"], e["url"]) for e in updates} == {(None, None)}
    assert all(list(change) == [False, True] for e in updates for change in e["changes"].values())


def test_changes_made_with_an_api_token_are_attributed_to_its_user(
    token_client, client_for, integration_user, admin_user, team_a
):
    # Given
    client = token_client(integration_user, scopes=["customers:write"])
    customer_id = client.post(
        "/api/v1/customers/", {"given_name": "Tok", "family_name": "En", "team": team_a.pk}, format="json"
    ).json()["id"]
    # When
    entries = client_for(admin_user).get(f"/api/v1/customers/{customer_id}/audit/").json()
    # Then
    assert summary(entries) == [("insert", "records.CustomerEvent", "crm-sync", "/api/v1/customers/")]
    assert entries[0]["user_id"] == integration_user.pk


def test_reads_send_their_statements_as_written_and_writes_carry_the_request_context(client_for, admin_user, world):
    # Given
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(admin_user)
    # When: a read, then a write, through the API
    with CaptureQueriesContext(connection) as read:
        assert client.get(f"/api/v1/customers/{world.customer_a.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as write:
        response = client.post("/api/v1/cases/", {"customer": world.customer_a.pk, "subject": "Context"}, format="json")
    # Then: no statement of the GET is prefixed with pghistory's set_config (PGHISTORY_MIDDLEWARE_METHODS),
    # while the POST's carry the request's context, which its audit entries name
    assert response.status_code == 201
    assert not [q["sql"] for q in read.captured_queries if "pghistory.context_id" in q["sql"]]
    assert [q["sql"] for q in write.captured_queries if "pghistory.context_id" in q["sql"]]
