"""Signed-in websockets (ws/context/, ws/desktop/) do not outlive the access they were opened with.

Two mechanisms, each tested on its own: the services that take access away (sign-out,
deactivation, a role or team change) close the user's sockets through the group ``user.<id>``;
and every push re-checks its subscription (at most every CEA_WS_ACCESS_RECHECK_SECONDS), so access
lost without such an event (a transfer, a change made elsewhere) stops the pushes too.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from cea.accounts.services import user_set_role, user_set_teams
from cea.common.channels import Channel
from engagement.context.services import context_write
from engagement.orchestration import conversation_transfer
from engagement.routing.presence import presence_set
from tests.engagement.desktop_support import customer_says, on_desk
from tests.engagement.websockets import QUIET, accepted, closed_with, desk, desktop, receive, run
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env", "eager_tasks")]


@pytest.fixture
def customer_a(team_a):
    return CustomerFactory(team=team_a)


def browser(user) -> Client:
    """The user's browser: signed in, its session cookie shared by the pages and the sockets."""
    client = Client()
    client.force_login(user)
    return client


def write(customer, values: dict) -> None:
    context_write(actor=None, scope="customer", context_id=customer.pk, values=values, customer_id=customer.pk)


def user_form(user, **fields) -> dict:
    """The console's user change form as posted for ``user``, with ``fields`` (an unticked box is absent)."""
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": "",
        "role": "agent",
        **fields,
    }


async def context_socket(client: Client) -> WebsocketCommunicator:
    return await accepted(desktop(client.cookies["sessionid"].value))


async def desk_socket(client: Client) -> WebsocketCommunicator:
    communicator = await accepted(desk(client.cookies["sessionid"].value))
    await receive(communicator, "desk.state")
    return communicator


async def subscribed(communicator, scope: str, object_id: int) -> None:
    await communicator.send_json_to({"action": "subscribe", "scope": scope, "id": object_id})
    assert (await receive(communicator))["type"] == "subscribed"


# --- Closed by the services that take access away -------------------------------------------------


def test_removed_from_the_team_the_users_socket_is_closed_and_another_teams_user_keeps_theirs(
    agent, agent_b, team_b, customer_a
):
    customer_b = CustomerFactory(team=team_b)
    agents_browser, others_browser = browser(agent), browser(agent_b)

    async def scenario():
        mine = await context_socket(agents_browser)
        theirs = await context_socket(others_browser)
        await subscribed(mine, "customer", customer_a.pk)
        await subscribed(theirs, "customer", customer_b.pk)
        # When: an admin takes agent A out of team A
        await database_sync_to_async(user_set_teams)(user=agent, teams=[])
        error = await receive(mine, "error")
        # Then
        assert error["code"] == "teams_changed"
        assert await closed_with(mine) == 4409
        # and agent B's socket goes on
        await database_sync_to_async(write)(customer_b, {"mood": "fine"})
        assert (await receive(theirs, "context.changed"))["values"] == {"mood": "fine"}

    run(scenario)


def test_deactivated_in_the_console_the_users_desk_is_closed(agent, admin_user, team_a):
    agents_browser, admins_browser = browser(agent), browser(admin_user)

    async def scenario():
        desk = await desk_socket(agents_browser)
        # When: the admin unticks "active" on the agent's change page
        response = await database_sync_to_async(admins_browser.post)(
            f"/admin/accounts/user/{agent.pk}/change/", user_form(agent, teams=[team_a.pk])
        )
        error = await receive(desk, "error")
        # Then
        assert response.status_code == 302, response.content
        assert error["code"] == "deactivated"
        assert await closed_with(desk) == 4401

    run(scenario)
    agent.refresh_from_db()
    assert agent.is_active is False


def test_a_password_changed_in_the_console_closes_the_users_desk(agent, admin_user):
    agents_browser, admins_browser = browser(agent), browser(admin_user)

    async def scenario():
        desk = await desk_socket(agents_browser)
        # When: the admin sets a new password on the agent's "change password" page
        response = await database_sync_to_async(admins_browser.post)(
            f"/admin/accounts/user/{agent.pk}/password/",
            {"password1": "a-new-Passw0rd-41", "password2": "a-new-Passw0rd-41", "usable_password": "true"},
        )
        error = await receive(desk, "error")
        # Then: the desk is told to sign in again and closed
        assert response.status_code == 302, response.content
        assert error["code"] == "password_changed"
        assert await closed_with(desk) == 4401

    run(scenario)
    agent.refresh_from_db()
    assert agent.check_password("a-new-Passw0rd-41")


def test_moved_to_another_team_in_the_console_the_users_socket_is_closed(agent, admin_user, team_b, customer_a):
    agents_browser, admins_browser = browser(agent), browser(admin_user)

    async def scenario():
        socket = await context_socket(agents_browser)
        await subscribed(socket, "customer", customer_a.pk)
        # When
        response = await database_sync_to_async(admins_browser.post)(
            f"/admin/accounts/user/{agent.pk}/change/", user_form(agent, teams=[team_b.pk], is_active="on")
        )
        error = await receive(socket, "error")
        # Then
        assert response.status_code == 302, response.content
        assert error["code"] == "teams_changed"
        assert await closed_with(socket) == 4409

    run(scenario)
    assert list(agent.teams.values_list("name", flat=True)) == ["Team B"]


def test_signed_out_the_users_sockets_are_closed(agent, customer_a):
    agents_browser = browser(agent)

    async def scenario():
        socket = await context_socket(agents_browser)
        desk = await desk_socket(agents_browser)
        await subscribed(socket, "customer", customer_a.pk)
        # When
        response = await database_sync_to_async(agents_browser.post)("/accounts/logout/")
        # Then
        assert response.status_code == 302
        assert ((await receive(socket, "error"))["code"], await closed_with(socket)) == ("signed_out", 4401)
        assert ((await receive(desk, "error"))["code"], await closed_with(desk)) == ("signed_out", 4401)

    run(scenario)


def test_a_role_change_closes_the_users_desk(agent):
    agents_browser = browser(agent)

    async def scenario():
        desk = await desk_socket(agents_browser)
        # When
        await database_sync_to_async(user_set_role)(user=agent, role="integration")
        # Then
        assert ((await receive(desk, "error"))["code"], await closed_with(desk)) == ("role_changed", 4409)

    run(scenario)


# --- Re-checked on each push -----------------------------------------------------------------------


def test_access_lost_without_an_event_stops_the_pushes_at_the_next_one(agent, team_a, customer_a, settings):
    settings.CEA_WS_ACCESS_RECHECK_SECONDS = 0
    agents_browser = browser(agent)

    async def scenario():
        socket = await context_socket(agents_browser)
        await subscribed(socket, "customer", customer_a.pk)
        # When: the membership goes without a service (e.g. in a shell), then the context changes
        await database_sync_to_async(agent.teams.remove)(team_a)
        await database_sync_to_async(write)(customer_a, {"secret": "x"})
        frame = await receive(socket)
        await database_sync_to_async(write)(customer_a, {"secret": "y"})
        # Then: no push, the subscription is dropped and the client told
        assert (frame["type"], frame["scope"], frame["id"], frame["code"]) == (
            "unsubscribed",
            "customer",
            str(customer_a.pk),
            "forbidden",
        )
        assert await socket.receive_nothing(timeout=QUIET)

    run(scenario)


def test_a_transferred_conversations_pushes_stop_for_the_agent_who_had_it(agent, agent_b, settings):
    # Given: agent A (team A) handles an anonymous chat that no team owns, and follows it; agent B
    # (team B) is available
    settings.CEA_WS_ACCESS_RECHECK_SECONDS = 0
    conversation = on_desk(agent, channel=Channel.CHAT)
    presence_set(actor=agent_b, agent_user=agent_b, presence="available")
    agents_browser = browser(agent)

    async def scenario():
        desk = await desk_socket(agents_browser)
        await subscribed(desk, "conversation_messages", conversation.pk)
        # When: they transfer it to agent B (team B) by name
        await database_sync_to_async(conversation_transfer)(actor=agent, conversation=conversation, to_agent=agent_b)
        frames = []
        while not frames or frames[-1]["type"] != "unsubscribed":
            frames.append(await receive(desk))
        await database_sync_to_async(customer_says)(conversation, "My card number is ...")
        # Then: the transfer's own message is not pushed to agent A, nor anything after it
        assert [frame["type"] for frame in frames if frame["type"].startswith("conversation.")] == []
        assert (frames[-1]["scope"], frames[-1]["id"], frames[-1]["code"]) == (
            "conversation_messages",
            str(conversation.pk),
            "forbidden",
        )
        later = [frame async for frame in _drain(desk)]
        assert [frame for frame in later if frame["type"].startswith("conversation.")] == []

    run(scenario)


async def _drain(communicator):
    """The frames that arrive until the socket is quiet."""
    while not await communicator.receive_nothing(timeout=QUIET):
        yield await receive(communicator)
