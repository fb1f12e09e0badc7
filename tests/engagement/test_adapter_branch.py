"""Face-to-face: checking a customer in at a branch queues a branch conversation."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from engagement.conversations.models import Conversation, Message
from records.journey.models import JourneyEvent
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, session_client, token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/engagement/branches/check-ins/"

CHECK_IN = {
    "visit_id": "kiosk-07-20250314-0931-004",
    "branch": "Leeds Briggate",
    "reason": "Replace a damaged debit card",
    "identifier_kind": "phone",
    "customer_identifier": "07911 123456",
    "arrived_at": "2025-03-14T09:31:12Z",
}


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


def test_a_check_in_queues_a_branch_conversation_for_the_customer(agent, team_a):
    # Given: reception staff check Alice in
    alice = make_customer(team_a, phone="+447911123456")
    # When
    response = session_client(agent).post(URL, CHECK_IN, format="json")
    # Then
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert (conversation.channel, conversation.external_id) == ("branch", f"{agent.pk}:kiosk-07-20250314-0931-004")
    assert (conversation.status, conversation.queue) == ("queued", "Branch Leeds Briggate")
    assert (conversation.customer_id, conversation.contact_kind, conversation.contact_value) == (
        alice.pk,
        "phone",
        "+447911123456",
    )
    assert conversation.subject == "Replace a damaged debit card"
    assert (message.author_kind, message.body) == (
        "system",
        "Checked in at Leeds Briggate: Replace a damaged debit card",
    )
    assert message.payload == {
        "event": "check_in",
        "branch": "Leeds Briggate",
        "reason": "Replace a damaged debit card",
        "visit_id": "kiosk-07-20250314-0931-004",
    }


def test_a_walk_in_without_an_identifier_is_anonymous(integration_user):
    # When: the kiosk checks in someone who gave no details
    response = token_client(integration_user).post(
        URL, {"visit_id": "kiosk-07-5", "branch": "York", "reason": "Open an account"}, format="json"
    )
    # Then
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.queue, conversation.verification_level) == (
        None,
        "Branch York",
        "anonymous",
    )


def test_the_same_check_in_100_times_is_one_visit(agent):
    # When
    client = session_client(agent)
    responses = [client.post(URL, CHECK_IN, format="json") for _ in range(100)]
    # Then
    assert [r.status_code for r in responses] == [201] + [200] * 99
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"branch": ""}, {"branch"}),
        ({"reason": ""}, {"reason"}),
        ({"identifier_kind": "phone", "customer_identifier": "12"}, {"customer_identifier"}),
    ],
)
def test_a_malformed_check_in_is_400_and_nothing_is_written(agent, change, fields):
    # When
    response = session_client(agent).post(URL, {**CHECK_IN, **change}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert Conversation.objects.count() == 0


def test_an_anonymous_request_is_401():
    # When
    response = APIClient().post(URL, CHECK_IN, format="json")
    # Then
    assert_error(response, 401, "not_authenticated")


def test_a_check_in_never_binds_a_customer_the_staff_may_not_see(agent_b, team_a):
    # Given: Alice is a team A customer; a team B member checks in someone giving her phone
    alice = make_customer(team_a, phone="+447911123456")
    # When
    response = session_client(agent_b).post(URL, CHECK_IN, format="json")
    # Then: an anonymous walk-in, as if the phone were on nobody's file
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.verification_level, conversation.team_id) == (
        None,
        "anonymous",
        None,
    )
    assert (conversation.contact_kind, conversation.contact_value) == ("phone", "+447911123456")
    assert not JourneyEvent.objects.filter(customer=alice, kind="conversation.started").exists()
