"""The agent a conversation is transferred to: one rule for the API and the desk."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from engagement.conversations.models import ConversationStatus
from engagement.routing.models import WorkItem, WorkStatus
from engagement.routing.selectors import transfer_target_agent
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import on_desk
from tests.records.factories import CustomerFactory
from tests.support import assert_error, session_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def _agent_with(username: str, **flags):
    """An agent whose account flags were then changed (switched off, made superuser)."""
    user = UserFactory(username=username, role="agent")
    type(user).objects.filter(pk=user.pk).update(**flags)
    user.refresh_from_db()
    return user


@pytest.fixture
def targets(supervisor, admin_user, integration_user):
    """Who may and may not take a transferred conversation, by name."""
    return {
        "supervisor": supervisor,
        "inactive agent": _agent_with("gone.a", is_active=False),
        "superuser with an agent role": _agent_with("root.a", is_superuser=True),
        "admin": admin_user,
        "integration client": integration_user,
    }


def _api_transfer(agent, conversation, to_agent):
    return session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/transfer/", {"to_agent": to_agent}
    )


def _desk_transfer(agent, conversation, to_agent):
    client = Client()
    client.force_login(agent)
    return client.post(reverse("engagement:desk-transfer", args=[conversation.pk]), {"to_agent": to_agent}, **HTMX)


def test_an_inactive_user_is_no_transfer_target_through_the_api(agent, team_a):
    # Given an agent handling a chat, and a colleague whose account was switched off
    conversation = on_desk(agent, customer=CustomerFactory(team=team_a))
    gone = _agent_with("gone.a", is_active=False)
    # When the agent transfers the chat to them through the API
    response = _api_transfer(agent, conversation, gone.pk)
    # Then there is no such agent, and the chat stays with the agent
    error = assert_error(response, 404)
    assert error["message"] == f"No agent with id {gone.pk}."
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent_id) == (ConversationStatus.ACTIVE, agent.pk)


def test_the_selector_finds_an_active_agent_by_id_or_username(supervisor, targets):
    # Given users who may and may not take work
    # When each is looked up by id and by username
    found = {
        name: (transfer_target_agent(reference=user.pk), transfer_target_agent(reference=user.username))
        for name, user in targets.items()
    }
    # Then only the active supervisor is found, either way
    assert found == {
        "supervisor": (supervisor, supervisor),
        "inactive agent": (None, None),
        "superuser with an agent role": (None, None),
        "admin": (None, None),
        "integration client": (None, None),
    }
    assert transfer_target_agent(reference=str(supervisor.pk)) == supervisor
    assert transfer_target_agent(reference="nobody") is None


@pytest.mark.parametrize(
    ("target", "accepted"),
    [
        ("supervisor", True),
        ("inactive agent", False),
        ("superuser with an agent role", False),
        ("admin", False),
        ("integration client", False),
    ],
)
def test_the_api_and_the_desk_give_the_same_answer(agent, team_a, targets, target, accepted):
    # Given two chats on the agent's desk
    by_api, by_desk = (on_desk(agent, customer=CustomerFactory(team=team_a)) for _ in range(2))
    to_agent = targets[target].pk
    # When the agent transfers one through the API and the other through the desk, to the same user
    api = _api_transfer(agent, by_api, to_agent)
    desk = _desk_transfer(agent, by_desk, str(to_agent))
    # Then both accept, or both refuse as an unknown agent and leave the chat with the agent
    if accepted:
        assert (api.status_code, desk.status_code) == (200, 204)
        targeted = WorkItem.objects.filter(status=WorkStatus.WAITING).values_list("conversation", "target_agent__user")
        assert sorted(targeted) == sorted([(by_api.pk, to_agent), (by_desk.pk, to_agent)])
    else:
        assert (api.status_code, desk.status_code) == (404, 400)
        assert assert_error(api, 404)["message"] == f"No agent with id {to_agent}."
        assert "Unknown agent." in desk.content.decode()
        for conversation in (by_api, by_desk):
            conversation.refresh_from_db()
        assert [(c.status, c.agent_id) for c in (by_api, by_desk)] == [(ConversationStatus.ACTIVE, agent.pk)] * 2
