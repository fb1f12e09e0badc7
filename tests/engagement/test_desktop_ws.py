"""The desk's websocket, ws/desktop/: who may connect, the agent's pushes, and answering offers and presence.

Consumers run against ``cea.asgi.application`` with the real Redis channel layer; the router's
Celery tasks run eagerly, so that a conversation asking for an agent is offered at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.utils import timezone

from cea import settings as configured
from cea.common.channels import Channel
from engagement.conversations.models import ConversationStatus
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end, conversation_escalate, conversation_wrap_up
from engagement.routing.models import AgentProfile, Offer, OfferStatus, Presence
from engagement.routing.presence import agent_profile_for, presence_set
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import customer_says, on_desk
from tests.engagement.websockets import QUIET, accepted, closed_with, desk, receive, run, session_cookie
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env", "eager_tasks")]


async def connected(user) -> tuple[WebsocketCommunicator, dict]:
    """A desk of ``user`` past its handshake, and the ``desk.state`` frame it starts with."""
    communicator = await accepted(desk(await database_sync_to_async(session_cookie)(user)))
    return communicator, await receive(communicator, "desk.state")


def profile_of(user) -> AgentProfile:
    return AgentProfile.objects.select_related("reason").get(user=user)


def asks_for_an_agent(**fields):
    conversation, _ = conversation_start(channel=Channel.CHAT, **fields)
    conversation_escalate(conversation=conversation)
    return conversation


# --- Connecting ---------------------------------------------------------------------------------


def test_an_idle_socket_outlives_the_channel_layers_blocking_read():
    # redis-py 8 times reads out after 5 s by default, exactly when channels-redis's 5 s BZPOPMIN
    # for a consumer's next message returns: every desk left idle for 5 s would be dropped.
    host = configured.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout == 5


def test_a_connection_without_a_session_is_closed_with_4401():
    async def scenario():
        # When
        communicator = desk()
        await communicator.connect(timeout=5)
        # Then
        assert (await receive(communicator, "error"))["code"] == "not_authenticated"
        assert await closed_with(communicator) == 4401

    run(scenario)


@pytest.mark.parametrize("who", ["integration_user", "admin_user"])
def test_a_user_who_takes_no_work_is_closed_with_4403(request, who):
    user = request.getfixturevalue(who)

    async def scenario():
        # When
        communicator = desk(await database_sync_to_async(session_cookie)(user))
        await communicator.connect(timeout=5)
        # Then
        assert (await receive(communicator, "error"))["code"] == "not_an_agent"
        assert await closed_with(communicator) == 4403

    run(scenario)
    assert not AgentProfile.objects.filter(user=user).exists()


def test_a_desk_starts_from_the_agents_state_and_counts_as_connected_until_it_closes(agent, customer_a):
    conversation = on_desk(agent, customer=customer_a)

    async def scenario():
        # When
        communicator, state = await connected(agent)
        while_open = await database_sync_to_async(profile_of)(agent)
        await communicator.disconnect()
        # Then
        assert state["presence"]["presence"] == "available"
        assert state["presence"]["value"] == "available"
        assert (state["offers"], state["conversations"]) == ([], [conversation.pk])
        assert (while_open.connections, while_open.disconnected_at) == (1, None)
        assert while_open.last_seen_at is not None

    run(scenario)
    after = profile_of(agent)
    assert after.connections == 0
    assert after.disconnected_at is not None


def test_a_ping_is_a_heartbeat(agent):
    agent_profile_for(agent)

    async def scenario():
        communicator, _ = await connected(agent)
        long_ago = timezone.now() - timedelta(hours=1)
        await database_sync_to_async(AgentProfile.objects.filter(user=agent).update)(last_seen_at=long_ago)
        # When
        await communicator.send_json_to({"action": "ping"})
        # Then
        assert await receive(communicator) == {"type": "pong"}
        seen = (await database_sync_to_async(profile_of)(agent)).last_seen_at
        assert seen > long_ago + timedelta(minutes=59)

    run(scenario)


# --- Presence -----------------------------------------------------------------------------------


def test_presence_is_set_over_the_socket_with_a_reason(agent):
    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await communicator.send_json_to({"action": "presence", "presence": "away", "reason": "break"})
        answer = await receive(communicator, "presence.set")
        push = await receive(communicator, "presence.changed")
        # Then
        assert (answer["presence"], answer["reason"], answer["value"]) == ("away", "break", "away:break")
        assert (push["presence"], push["reason_label"], push["value"]) == ("away", "Break", "away:break")
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)
    profile = profile_of(agent)
    assert (profile.presence, profile.reason.code) == (Presence.AWAY, "break")


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"presence": "away", "reason": "missed_offer"}, "reason"),  # CEA's own reason, not the agent's
        ({"presence": "away"}, "reason"),
        ({"presence": "asleep"}, "presence"),
        ({"presence": "away", "reason": 7}, "reason"),
    ],
)
def test_a_refused_presence_is_an_error_frame_and_nothing_changes(agent, frame, field):
    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await communicator.send_json_to({"action": "presence", **frame})
        error = await receive(communicator, "error")
        # Then
        assert (error["code"], error["action"], list(error["fields"])) == ("invalid", "presence", [field])
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)
    assert profile_of(agent).presence == Presence.OFFLINE


# --- Offers -------------------------------------------------------------------------------------


def test_an_offer_is_pushed_to_the_agents_desk(agent, customer_a):
    async def scenario():
        communicator, _ = await connected(agent)
        await database_sync_to_async(presence_set)(actor=agent, agent_user=agent, presence="available")
        await receive(communicator, "presence.changed")
        # When
        conversation = await database_sync_to_async(asks_for_an_agent)(customer=customer_a, subject="Parcel")
        frame = await receive(communicator, "offer.new")
        # Then
        offer = await database_sync_to_async(Offer.objects.get)(work_item__conversation=conversation)
        pushed = frame["offer"]
        assert (pushed["id"], pushed["conversation"], pushed["customer"], pushed["subject"]) == (
            offer.pk,
            conversation.pk,
            str(customer_a),
            "Parcel",
        )
        assert (pushed["channel"], pushed["seconds"], pushed["transfer"]) == ("chat", 20, False)

    run(scenario)


def test_an_offer_accepted_over_the_socket_puts_the_conversation_on_the_desk(agent, customer_a):
    presence_set(actor=agent, agent_user=agent, presence="available")
    conversation = asks_for_an_agent(customer=customer_a)
    offer = Offer.objects.get(work_item__conversation=conversation)

    async def scenario():
        communicator, state = await connected(agent)
        # When
        await communicator.send_json_to({"action": "accept", "offer": offer.pk})
        answer = await receive(communicator)
        ended = await receive(communicator)
        # Then
        assert [item["id"] for item in state["offers"]] == [offer.pk]
        assert answer == {"type": "offer.accepted", "offer": offer.pk, "conversation": conversation.pk}
        assert ended == {"type": "offer.ended", "offer": offer.pk, "status": "accepted", "reason": ""}

    run(scenario)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent_id) == (ConversationStatus.ACTIVE, agent.pk)


def test_an_offer_rejected_over_the_socket_goes_back_to_its_queue(agent, customer_a):
    presence_set(actor=agent, agent_user=agent, presence="available")
    conversation = asks_for_an_agent(customer=customer_a)
    offer = Offer.objects.get(work_item__conversation=conversation)

    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await communicator.send_json_to({"action": "reject", "offer": str(offer.pk), "reason": "wrong language"})
        answer = await receive(communicator)
        ended = await receive(communicator)
        # Then
        assert answer == {"type": "offer.rejected", "offer": offer.pk}
        assert ended == {"type": "offer.ended", "offer": offer.pk, "status": "rejected", "reason": "wrong language"}

    run(scenario)
    offer.refresh_from_db()
    assert (offer.status, offer.work_item.status) == (OfferStatus.REJECTED, "waiting")


def test_another_agents_offer_cannot_be_accepted(agent, team_a, customer_a):
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    presence_set(actor=colleague, agent_user=colleague, presence="available")
    offer = Offer.objects.get(work_item__conversation=asks_for_an_agent(customer=customer_a))

    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await communicator.send_json_to({"action": "accept", "offer": offer.pk})
        error = await receive(communicator, "error")
        # Then
        assert (error["code"], error["action"], error["offer"]) == ("forbidden", "accept", offer.pk)

    run(scenario)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PENDING


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"action": "accept"}, "invalid"),
        ({"action": "accept", "offer": True}, "invalid"),
        ({"action": "reject", "offer": "1; drop"}, "invalid"),
        ({"action": "accept", "offer": 999999}, "not_found"),
        ({"action": "dance"}, "unknown_action"),
    ],
)
def test_bad_frames_get_error_frames_and_the_socket_goes_on(agent, frame, code):
    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await communicator.send_json_to(frame)
        error = await receive(communicator, "error")
        await communicator.send_json_to({"action": "ping"})
        # Then
        assert error["code"] == code
        assert await receive(communicator) == {"type": "pong"}

    run(scenario)


def test_an_answered_offer_cannot_be_accepted_twice(agent, customer_a):
    presence_set(actor=agent, agent_user=agent, presence="available")
    offer = Offer.objects.get(work_item__conversation=asks_for_an_agent(customer=customer_a))

    async def scenario():
        communicator, _ = await connected(agent)
        await communicator.send_json_to({"action": "accept", "offer": offer.pk})
        await receive(communicator, "offer.accepted")
        await receive(communicator, "offer.ended")
        # When
        await communicator.send_json_to({"action": "accept", "offer": offer.pk})
        error = await receive(communicator, "error")
        # Then
        assert (error["code"], error["offer"]) == ("offer_accepted", offer.pk)

    run(scenario)


# --- Work and the conversations the desk follows ------------------------------------------------


def test_the_desk_is_told_when_the_customer_leaves_and_when_the_work_is_done(agent, customer_a):
    conversation = on_desk(agent, customer=customer_a)

    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await database_sync_to_async(conversation_end)(actor=None, conversation=conversation)
        wrap_up = await receive(communicator)
        await database_sync_to_async(conversation_wrap_up)(
            actor=agent, conversation=conversation, wrap_up_code="resolved"
        )
        ended = await receive(communicator)
        # Then
        assert wrap_up == {"type": "work.wrap_up", "conversation": conversation.pk}
        assert ended == {"type": "work.ended", "conversation": conversation.pk, "status": "done"}

    run(scenario)


def test_the_desk_follows_its_conversations_messages(agent, customer_a):
    conversation = on_desk(agent, customer=customer_a)

    async def scenario():
        communicator, _ = await connected(agent)
        await communicator.send_json_to(
            {"action": "subscribe", "scope": "conversation_messages", "id": conversation.pk}
        )
        subscribed = await receive(communicator, "subscribed")
        # When
        message = await database_sync_to_async(customer_says)(conversation, "Still there?")
        frame = await receive(communicator, "conversation.message")
        # Then
        assert [m["author_kind"] for m in subscribed["messages"]] == ["system"]  # the agent joined
        assert (frame["message"]["id"], frame["message"]["body"]) == (message.pk, "Still there?")

    run(scenario)


@pytest.mark.parametrize("scope", ["conversation_messages", "conversation", "customer"])
def test_another_teams_conversation_or_customer_cannot_be_followed(agent, agent_b, team_b, scope):
    customer_b = CustomerFactory(team=team_b)
    theirs = on_desk(agent_b, customer=customer_b)
    target = customer_b.pk if scope == "customer" else theirs.pk

    async def scenario():
        communicator, _ = await connected(agent)
        # When
        await communicator.send_json_to({"action": "subscribe", "scope": scope, "id": target})
        error = await receive(communicator, "error")
        await database_sync_to_async(customer_says)(theirs, "private")
        # Then
        assert (error["code"], error["scope"], error["id"]) == ("forbidden", scope, str(target))
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


@pytest.fixture
def customer_a(team_a):
    return CustomerFactory(team=team_a)
