"""The engagement and integration surfaces that show a customer record the read in the access log:
the desk's 360 panel, identify, and the aggregated view across back-ends."""

from __future__ import annotations

import pytest

from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from records.audit.models import CustomerAccess
from tests.support import make_customer, session_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("idv_env", "routing_env")]


def _reads() -> list[tuple]:
    return list(
        CustomerAccess.objects.order_by("id").values_list("username", "customer_id", "surface", "outside_teams")
    )


def test_identify_records_the_customer_it_found(agent, alice, team_a):
    # Given
    conversation, _ = conversation_start(channel="chat", team=team_a)
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="active")
    # When
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/identify/",
        {"kind": "phone", "value": "07911 123456"},
        format="json",
    )
    # Then
    assert response.status_code == 200
    assert _reads() == [("agent.a", alice.pk, "identify", False)]
    assert CustomerAccess.objects.get().detail == f"conversation {conversation.pk}"


def test_identify_of_nobody_records_nothing(agent, team_a):
    # Given
    conversation, _ = conversation_start(channel="chat", team=team_a)
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="active")
    # When
    session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/identify/",
        {"kind": "phone", "value": "07000 000000"},
        format="json",
    )
    # Then
    assert _reads() == []


def test_the_desks_customer_panel_records_the_read_and_another_teams_customer_is_refused(client, agent, team_a, team_b):
    # Given
    ours, theirs = make_customer(team_a), make_customer(team_b, given_name="Bob")
    client.force_login(agent)
    # When
    shown = client.get(f"/desk/customers/{ours.pk}/")
    refused = client.get(f"/desk/customers/{theirs.pk}/")
    # Then
    assert shown.status_code == 200
    assert refused.status_code == 403
    assert _reads() == [("agent.a", ours.pk, "desk_panel", False)]


def test_a_conversation_on_the_desk_records_its_customers_panel(client, agent, alice, team_a):
    # Given
    conversation, _ = conversation_start(channel="chat", team=team_a, customer=alice)
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="active")
    client.force_login(agent)
    # When
    response = client.get(f"/desk/conversations/{conversation.pk}/")
    # Then
    assert response.status_code == 200
    assert _reads() == [("agent.a", alice.pk, "desk_panel", False)]


def test_the_aggregated_view_records_a_lookup(admin_user, team_b):
    # Given
    customer = make_customer(team_b)
    # When
    response = session_client(admin_user).get(f"/api/v1/customers/{customer.pk}/aggregate/")
    # Then
    assert response.status_code == 200
    assert _reads() == [("admin", customer.pk, "lookup", False)]
