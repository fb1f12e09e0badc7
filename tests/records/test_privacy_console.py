"""The console's privacy requests: a supervisor requests, an administrator approves and carries out."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from records.customers.models import CustomerStatus
from records.privacy.models import PrivacyRequest, PrivacyRequestStatus
from tests.accounts.factories import UserFactory
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/records/privacyrequest/add/"
LIST = "/admin/records/privacyrequest/"


def _messages(response) -> list[str]:
    return [message.message for message in get_messages(response.wsgi_request)]


def test_a_supervisor_requests_in_the_console_and_an_admin_approves_and_carries_it_out(
    client, supervisor, team_a, django_capture_on_commit_callbacks, eager_tasks
):
    customer = CustomerFactory(team=team_a, given_name="Maeve", email="maeve@example.org")
    client.force_login(supervisor)
    added = client.post(ADD, {"kind": "erasure", "customer": customer.pk, "reason": "Phoned in, verified"})
    assert added.status_code == 302, added.content
    request = PrivacyRequest.objects.get()
    assert (request.requested_by, request.status) == (supervisor, PrivacyRequestStatus.REQUESTED)
    # the supervisor is not offered the decisions
    assert b'value="approve"' not in client.get(LIST).content

    client.force_login(UserFactory(username="dpo", role="admin"))
    client.post(LIST, {"action": "approve", "_selected_action": [request.pk]})
    with django_capture_on_commit_callbacks(execute=True):
        carried = client.post(LIST, {"action": "carry_out", "_selected_action": [request.pk]}, follow=True)

    assert "1 request(s) sent to be carried out: they turn done when finished." in _messages(carried)
    request.refresh_from_db()
    customer.refresh_from_db()
    assert request.status == PrivacyRequestStatus.DONE
    assert customer.status == CustomerStatus.ERASED


def test_a_supervisor_cannot_request_for_another_teams_customer_in_the_console(client, supervisor, team_b):
    customer = CustomerFactory(team=team_b)
    client.force_login(supervisor)

    refused = client.post(ADD, {"kind": "erasure", "customer": customer.pk, "reason": "x"})

    assert refused.status_code == 200  # the form again, with its error
    assert b"Select a valid choice" in refused.content
    assert PrivacyRequest.objects.count() == 0


def test_the_requester_approving_in_the_console_is_refused_per_row(client, admin_user, team_a):
    customer = CustomerFactory(team=team_a)
    client.force_login(admin_user)
    client.post(ADD, {"kind": "access", "customer": customer.pk, "reason": "Letter"})
    request = PrivacyRequest.objects.get()

    answer = client.post(LIST, {"action": "approve", "_selected_action": [request.pk]}, follow=True)

    assert any("Four eyes" in message for message in _messages(answer))
    request.refresh_from_db()
    assert request.status == PrivacyRequestStatus.REQUESTED
