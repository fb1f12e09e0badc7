"""The supervisor's tools live: monitoring over the conversation's group, a whisper only the agent's socket
gets, a barge-in the visitor's widget shows, a presence change the agent's desk is told about.

Real Channels with the Redis layer (tests/engagement/websockets.py); the router's tasks run eagerly.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from cea.common import live
from cea.common.channels import Channel
from cea.common.live import Throttle
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing.models import Offer, OfferStatus, Presence
from engagement.routing.offers import offer_accept
from engagement.supervision.services import (
    supervision_barge_in,
    supervision_monitor,
    supervision_presence_set,
    supervision_say,
    supervision_whisper,
)
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory, SiteKeyFactory
from tests.engagement.websockets import (
    QUIET,
    accepted,
    closed_with,
    desk,
    desktop,
    own_coalescer,
    receive,
    run,
    session_cookie,
    signed_in,
    widget,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env", "eager_tasks")]

SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def _no_self_service(monkeypatch):
    """The visitor's messages go straight to the agents' queue: these tests are about the supervisor."""
    monkeypatch.setattr("engagement.webchat.services.selfservice_answer_pending", lambda **_: [])


@pytest.fixture
def site(team_a):
    QueueFactory(name="web-chat", team=team_a)
    return SiteKeyFactory(name="Northwind", allowed_origins=[SHOP], queue="web-chat", team=team_a)


@pytest.fixture
def boss(team_a):
    return UserFactory(username="sam", role="supervisor", teams=[team_a], first_name="Sam", last_name="Super")


def handled_by(conversation_id: int, agent) -> Conversation:
    """The visitor's chat asks for an agent and ``agent`` accepts it."""
    RoutableAgentFactory(user=agent)
    conversation = Conversation.objects.get(pk=conversation_id)
    conversation_escalate(conversation=conversation, queue="web-chat")
    offer = Offer.objects.get(work_item__conversation=conversation, status=OfferStatus.PENDING)
    return offer_accept(actor=agent, offer_id=offer.pk)


async def drain(communicator: WebsocketCommunicator) -> list[dict]:
    """Every frame that arrives until the socket is quiet (``receive_nothing`` does not end the consumer)."""
    frames = []
    while not await communicator.receive_nothing(timeout=QUIET):
        frames.append(await receive(communicator))
    return frames


async def following(user, conversation_id: int) -> WebsocketCommunicator:
    """``user``'s ws/context/ socket subscribed to the conversation's messages."""
    communicator = await signed_in(user)
    await communicator.send_json_to({"action": "subscribe", "scope": "conversation_messages", "id": conversation_id})
    await receive(communicator, "subscribed")
    return communicator


def test_monitor_whisper_and_barge_in_reach_who_they_are_for(site, agent, boss):
    async def scenario():
        # Given: a visitor chatting with the agent; the agent's desk and the supervisor follow the chat
        visitor = await accepted(widget(site.key, origin=SHOP))
        await receive(visitor, "welcome")
        await visitor.send_json_to({"type": "message", "client_id": "c-1", "body": "My parcel is late"})
        ack = await receive(visitor, "ack")
        conversation = await database_sync_to_async(handled_by)(ack["conversation"], agent)
        agent_socket = await following(agent, conversation.pk)
        await database_sync_to_async(supervision_monitor)(actor=boss, conversation=conversation)
        monitor = await following(boss, conversation.pk)
        await drain(visitor)
        # When: the supervisor whispers
        whisper = await database_sync_to_async(supervision_whisper)(
            actor=boss, conversation=conversation, body="Offer the refund"
        )
        # Then: the agent and the monitor get it, marked internal; the visitor gets nothing
        for communicator in (agent_socket, monitor):
            frame = await receive(communicator, "conversation.message")
            assert (frame["message"]["id"], frame["message"]["internal"], frame["message"]["body"]) == (
                whisper.pk,
                True,
                "Offer the refund",
            )
        assert await visitor.receive_nothing(timeout=QUIET)
        # When: the visitor writes, the monitor sees it live
        await visitor.send_json_to({"type": "message", "client_id": "c-2", "body": "Hello?"})
        await receive(visitor, "ack")
        assert (await receive(monitor, "conversation.message"))["message"]["body"] == "Hello?"
        # When: the supervisor barges in and writes
        await database_sync_to_async(supervision_barge_in)(actor=boss, conversation=conversation)
        await database_sync_to_async(supervision_say)(actor=boss, conversation=conversation, body="I'm on it.")
        # Then: the visitor is told, and gets the supervisor's message
        frames = [frame for frame in await drain(visitor) if frame["type"] == "message"]
        assert [(f["message"]["author_kind"], f["message"]["body"]) for f in frames] == [
            ("customer", "Hello?"),
            ("system", "Sam Super joined the conversation."),
            ("agent", "I'm on it."),
        ]
        # and the agent sees both as well
        bodies = [f["message"]["body"] for f in await drain(agent_socket) if f["type"] == "conversation.message"]
        assert bodies[-2:] == ["Sam Super joined the conversation.", "I'm on it."]

    run(scenario)


def test_a_supervisor_of_another_team_cannot_follow_the_chat(site, agent, team_b):
    # Given
    other = UserFactory(username="bea", role="supervisor", teams=[team_b])
    conversation, _ = conversation_start(channel=Channel.CHAT, team=site.team, queue="web-chat")

    async def scenario():
        # When
        communicator = await signed_in(other)
        subscribe = {"action": "subscribe", "scope": "conversation_messages", "id": conversation.pk}
        await communicator.send_json_to(subscribe)
        # Then
        refusal = await receive(communicator, "error")
        assert refusal["code"] == "forbidden"

    run(scenario)


def test_the_agents_desk_is_told_who_changed_their_presence(agent, boss):
    # Given
    RoutableAgentFactory(user=agent)

    async def scenario():
        communicator = await accepted(desk(await database_sync_to_async(session_cookie)(agent)))
        await receive(communicator, "desk.state")
        # When
        await database_sync_to_async(supervision_presence_set)(
            actor=boss, agent=agent, presence=Presence.AWAY, reason_code="break", note="Overdue"
        )
        # Then
        push = await receive(communicator, "presence.changed")
        assert (push["presence"], push["reason"], push["changed_by"]) == ("away", "break", "Sam Super")

    run(scenario)


def overview(session: str) -> WebsocketCommunicator:
    return desktop(session, path="/ws/supervision/")


class StillClock:
    """A clock that stands still: every hint after the first of its kind falls within the interval."""

    def __call__(self) -> float:
        return 100.0


def test_the_overview_socket_is_told_when_live_work_or_agents_change(site, agent, boss, monkeypatch):
    """The hints are coalesced per kind on a throttle of the test's own (none of an earlier test's
    pushes is still due on it): the first hint of each kind goes at once, the next ones of that kind
    ride on one push an interval later, and a hint of one kind never rides on the other's."""
    own_coalescer(monkeypatch, Throttle(1.0, clock=StillClock()))

    async def scenario():
        # Given
        communicator = await accepted(overview(await database_sync_to_async(session_cookie)(boss)))
        await receive(communicator, "supervision.ready")
        # When: two chats ask for an agent, one after the other
        for _ in range(2):
            conversation, _ = await database_sync_to_async(conversation_start)(channel=Channel.CHAT, team=site.team)
            await database_sync_to_async(conversation_escalate)(conversation=conversation, queue="web-chat")
        # Then: only that something changed (the page reads its own fragment again), at once
        assert await receive(communicator) == {"type": "supervision.changed", "what": "conversations"}
        # When: an agent's presence changes, while the second chat's hint waits for its push
        await database_sync_to_async(RoutableAgentFactory)(user=agent, presence=Presence.BUSY)
        # Then: the agents' hint is not swallowed by the pending one, and the pending one still comes
        frames = [await receive(communicator), await receive(communicator)]
        assert sorted(frame["what"] for frame in frames) == ["agents", "conversations"]
        assert {frame["type"] for frame in frames} == {"supervision.changed"}
        assert not live._coalesced.due  # nothing left unsent

    run(scenario)


def test_agents_cannot_open_the_overview_socket(agent):
    async def scenario():
        communicator = overview(await database_sync_to_async(session_cookie)(agent))
        await accepted(communicator)
        refusal = await receive(communicator, "error")
        assert refusal["code"] == "not_a_supervisor"
        assert await closed_with(communicator) == 4403

    run(scenario)
