"""The privacy requests API: roles, teams, four eyes, the access export, and the carried-out erasure."""

from __future__ import annotations

import json

import pytest

from records.customers.models import CustomerStatus
from records.privacy.models import LegalHold, PrivacyRequest, PrivacyRequestStatus
from tests.accounts.factories import UserFactory
from tests.records.factories import CustomerFactory
from tests.support import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/privacy/requests/"


@pytest.fixture
def approver(db):
    return UserFactory(username="dpo", role="admin")


def _request(client, customer, kind="erasure"):
    return client.post(URL, {"kind": kind, "customer": customer.pk, "reason": "Letter of 1 May"}, format="json")


def test_a_supervisor_requests_for_their_team_and_an_admin_approves_and_carries_it_out(
    client_for, supervisor, approver, team_a, django_capture_on_commit_callbacks, eager_tasks
):
    customer = CustomerFactory(team=team_a, given_name="Rhiannon", email="rhiannon@example.org")

    created = _request(client_for(supervisor), customer)
    assert created.status_code == 201, created.json()
    request_id = created.json()["id"]
    assert created.json()["status"] == "requested"
    assert created.json()["requested_by_username"] == supervisor.username

    admin = client_for(approver)
    approved = admin.post(f"{URL}{request_id}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    with django_capture_on_commit_callbacks(execute=True):
        carried = admin.post(f"{URL}{request_id}/carry-out/")
    assert carried.status_code == 202

    done = admin.get(f"{URL}{request_id}/").json()
    assert done["status"] == "done"
    assert done["result"]["records.customer"] == 1
    customer.refresh_from_db()
    assert (customer.status, customer.email, customer.given_name) == (CustomerStatus.ERASED, "", "Erased customer")


def test_a_supervisor_cannot_request_for_another_teams_customer_nor_see_its_requests(
    client_for, supervisor, admin_user, team_b
):
    customer = CustomerFactory(team=team_b)
    assert _request(client_for(supervisor), customer).status_code == 403
    other = PrivacyRequest.objects.create(kind="erasure", customer=customer, reason="x", requested_by=admin_user)

    assert client_for(supervisor).get(URL).json()["count"] == 0
    assert client_for(supervisor).get(f"{URL}{other.pk}/").status_code == 403
    assert client_for(supervisor).get(f"{URL}999999/").status_code == 404


def test_agents_cannot_request_and_supervisors_cannot_approve(client_for, agent, supervisor, team_a):
    customer = CustomerFactory(team=team_a)
    assert _request(client_for(agent), customer).status_code == 403
    request_id = _request(client_for(supervisor), customer).json()["id"]
    other_supervisor = UserFactory(username="supervisor.a2", role="supervisor", teams=[team_a])

    refused = client_for(other_supervisor).post(f"{URL}{request_id}/approve/")

    assert refused.status_code == 403
    assert PrivacyRequest.objects.get(pk=request_id).status == PrivacyRequestStatus.REQUESTED


def test_the_requester_cannot_approve_their_own_request(client_for, admin_user, team_a):
    customer = CustomerFactory(team=team_a)
    admin = client_for(admin_user)
    request_id = _request(admin, customer).json()["id"]

    refused = admin.post(f"{URL}{request_id}/approve/")

    assert "Four eyes" in assert_error(refused, 403)["message"]


def test_bad_input_is_refused_with_reasons_and_nothing_is_written(client_for, supervisor, team_a):
    customer = CustomerFactory(team=team_a)
    client = client_for(supervisor)

    bad_kind = client.post(URL, {"kind": "delete", "customer": customer.pk, "reason": "x"}, format="json")
    no_reason = client.post(URL, {"kind": "erasure", "customer": customer.pk, "reason": "  "}, format="json")

    assert bad_kind.status_code == 400 and "kind" in json.dumps(bad_kind.json())
    assert no_reason.status_code == 400
    assert PrivacyRequest.objects.count() == 0


def test_a_legal_hold_refuses_an_erasure_request_with_409(client_for, supervisor, admin_user, team_a):
    customer = CustomerFactory(team=team_a)
    LegalHold.objects.create(customer=customer, reason="Litigation", placed_by=admin_user)

    refused = _request(client_for(supervisor), customer)

    assert "legal hold" in assert_error(refused, 409, "legal_hold_active")["message"]
    # an access request is still allowed
    assert _request(client_for(supervisor), customer, kind="access").status_code == 201


def test_a_second_open_request_of_the_same_kind_is_refused(client_for, supervisor, team_a):
    customer = CustomerFactory(team=team_a)
    client = client_for(supervisor)
    assert _request(client, customer).status_code == 201
    assert _request(client, customer).status_code == 409


def test_the_access_export_is_for_the_approver_as_json_and_a_readable_page(
    client_for, client, supervisor, approver, admin_user, team_a, django_capture_on_commit_callbacks, eager_tasks
):
    customer = CustomerFactory(team=team_a, given_name="Orla", family_name="Byrne", email="orla@example.org")
    request_id = _request(client_for(supervisor), customer, kind="access").json()["id"]
    admin = client_for(approver)
    admin.post(f"{URL}{request_id}/approve/")
    assert admin.get(f"{URL}{request_id}/export/").status_code == 409  # not carried out yet
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"{URL}{request_id}/carry-out/")

    exported = admin.get(f"{URL}{request_id}/export/")

    assert exported.status_code == 200
    assert exported["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}-export.json"'
    document = json.loads(exported.content)
    assert document["customer_id"] == customer.pk
    assert document["parts"]["records.customer"][0]["email"] == "orla@example.org"
    assert document["parts"]["records.audit_history"]["profile_changes"][0]["pgh_label"] == "insert"
    assert {"records.interactions", "engagement.conversations", "integration.records"} <= set(document["parts"])
    assert PrivacyRequest.objects.get(pk=request_id).result["records.customer"] == 1
    # the readable page, for the approver only
    client.force_login(approver)
    page = client.get(f"/privacy/requests/{request_id}/export/")
    assert page.status_code == 200
    assert b'data-testid="privacy-export"' in page.content and b"orla@example.org" in page.content
    # anyone else, even another administrator or the requester, is refused
    assert client_for(admin_user).get(f"{URL}{request_id}/export/").status_code == 403
    assert client_for(supervisor).get(f"{URL}{request_id}/export/").status_code == 403


def test_api_tokens_have_no_scope_for_privacy_requests(token_client, admin_user):
    assert token_client(admin_user).get(URL).status_code == 403
