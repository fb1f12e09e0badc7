"""A web chat's typing indicators and read receipts, both ways between the widget and the desk.

The widget (ws/webchat/) and the agent's desk (ws/desktop/) run against the real application and the
real Redis channel layer; the conversation is a visitor's chat that the router gave to the agent.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from cea.common.channels import Channel, Direction
from engagement.conversations.models import ChatReadMark, Conversation, Message
from engagement.conversations.receipts import chat_read_mark
from engagement.conversations.services import message_add
from engagement.webchat.models import SiteKey
from engagement.webchat.services import visitor_token_issue
from tests.engagement.desktop_support import customer_says, on_desk
from tests.engagement.factories import SiteKeyFactory
from tests.engagement.websockets import QUIET, accepted, desk, receive, run, session_cookie, widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env", "eager_tasks")]

SHOP = "https://shop.example"


@pytest.fixture
def site(team_a) -> SiteKey:
    return SiteKeyFactory(name="Northwind", allowed_origins=[SHOP], queue="general", team=team_a)


@pytest.fixture
def chat(site, agent, team_a) -> tuple[Conversation, str]:
    """A visitor's web chat, on ``agent``'s desk, and the visitor's token."""
    visitor, token = visitor_token_issue(site=site)
    conversation = on_desk(
        agent, channel=Channel.CHAT, visitor=visitor, external_id=f"webchat:{visitor}:1", team=team_a
    )
    return conversation, token


async def desk_of(user, conversation: Conversation):
    """``user``'s desk, following the conversation's messages."""
    communicator = await accepted(desk(await database_sync_to_async(session_cookie)(user)))
    await receive(communicator, "desk.state")
    await communicator.send_json_to({"action": "subscribe", "scope": "conversation_messages", "id": conversation.pk})
    await receive(communicator, "subscribed")
    return communicator


async def widget_of(site: SiteKey, token: str):
    communicator = await accepted(widget(site.key, token=token))
    await receive(communicator, "welcome")
    return communicator


def test_the_customer_typing_shows_on_the_agents_desk_and_is_never_stored(site, chat, agent):
    conversation, token = chat

    async def scenario():
        # Given
        agent_desk = await desk_of(agent, conversation)
        visitor = await widget_of(site, token)
        # When
        await visitor.send_json_to({"type": "typing", "typing": True})
        typing = await receive(agent_desk, "conversation.typing")
        await visitor.send_json_to({"type": "typing", "typing": True})  # within 2 s: throttled
        throttled = await agent_desk.receive_nothing(timeout=QUIET)
        await visitor.send_json_to({"type": "typing", "typing": False})  # a stop always goes through
        stopped = await receive(agent_desk, "conversation.typing")
        # Then
        assert typing == {"type": "conversation.typing", "conversation": conversation.pk, "typing": True}
        assert throttled
        assert stopped == {"type": "conversation.typing", "conversation": conversation.pk, "typing": False}
        assert await visitor.receive_nothing(timeout=QUIET)  # the widget does not hear its own typing

    before = Message.objects.filter(conversation=conversation).count()
    run(scenario)
    assert Message.objects.filter(conversation=conversation).count() == before


def test_the_agent_typing_shows_in_the_widget(site, chat, agent):
    conversation, token = chat

    async def scenario():
        # Given
        agent_desk = await desk_of(agent, conversation)
        visitor = await widget_of(site, token)
        # When
        await agent_desk.send_json_to({"action": "typing", "conversation": conversation.pk, "typing": True})
        typing = await receive(visitor, "typing")
        await agent_desk.send_json_to({"action": "typing", "conversation": conversation.pk, "typing": False})
        stopped = await receive(visitor, "typing")
        # Then
        assert (typing, stopped) == ({"type": "typing", "typing": True}, {"type": "typing", "typing": False})
        assert await agent_desk.receive_nothing(timeout=QUIET)

    run(scenario)


def test_only_the_handling_agent_sends_typing_and_read_receipts(site, chat, agent, agent_b, supervisor):
    conversation, token = chat
    message = customer_says(conversation, "Hello?")

    async def scenario():
        # Given: an agent of team B, and team A's supervisor, who may watch the chat but does not handle it
        other = await accepted(desk(await database_sync_to_async(session_cookie)(agent_b)))
        await receive(other, "desk.state")
        watching = await desk_of(supervisor, conversation)
        visitor = await widget_of(site, token)
        # When
        await other.send_json_to({"action": "typing", "conversation": conversation.pk, "typing": True})
        across_teams = await receive(other, "error")
        await other.send_json_to({"action": "read", "conversation": conversation.pk, "up_to": message.pk})
        read_across_teams = await receive(other, "error")
        await watching.send_json_to({"action": "typing", "conversation": conversation.pk, "typing": True})
        not_handling = await receive(watching, "error")
        # Then
        assert (across_teams["code"], across_teams["action"], across_teams["conversation"]) == (
            "forbidden",
            "typing",
            conversation.pk,
        )
        assert read_across_teams["code"] == "forbidden"
        assert not_handling["code"] == "not_handling_agent"
        assert await visitor.receive_nothing(timeout=QUIET)

    run(scenario)
    assert ChatReadMark.objects.count() == 0


def test_the_agent_reading_shows_in_the_widget_and_moves_only_forward(site, chat, agent):
    conversation, token = chat
    first = customer_says(conversation, "Hello?")
    second = customer_says(conversation, "Anyone there?")

    async def scenario():
        # Given
        agent_desk = await desk_of(agent, conversation)
        visitor = await widget_of(site, token)
        # When: the agent reads up to the second message, then a late receipt for the first arrives
        await agent_desk.send_json_to({"action": "read", "conversation": conversation.pk, "up_to": second.pk})
        seen = await receive(visitor, "read")
        on_desk = await receive(agent_desk, "conversation.read")
        await agent_desk.send_json_to({"action": "read", "conversation": conversation.pk, "up_to": first.pk})
        # Then
        assert seen == {"type": "read", "up_to": second.pk, "read_at": seen["read_at"]}
        assert (on_desk["reader"], on_desk["up_to"], on_desk["conversation"]) == ("agent", second.pk, conversation.pk)
        assert await visitor.receive_nothing(timeout=QUIET)

    run(scenario)
    mark = ChatReadMark.objects.get()
    assert (mark.conversation_id, mark.reader, mark.up_to) == (conversation.pk, "agent", second.pk)


def test_the_customer_reading_shows_on_the_desk_and_a_reconnecting_widget_is_told_what_the_agent_read(
    site, chat, agent
):
    conversation, token = chat
    question = customer_says(conversation, "Hello?")
    answer, _ = message_add(
        conversation=conversation, direction=Direction.OUTBOUND, author_kind="agent", author=agent, body="Hi!"
    )
    chat_read_mark(conversation=conversation, reader="agent", up_to=question.pk)

    async def scenario():
        # Given
        agent_desk = await desk_of(agent, conversation)
        visitor = await accepted(widget(site.key, token=token))
        await receive(visitor, "welcome")
        # When: the widget asks for the history, then says it read the agent's answer
        await visitor.send_json_to({"type": "resume", "after": 0})
        history = await receive(visitor, "history")
        told = await receive(visitor, "read")
        await visitor.send_json_to({"type": "read", "up_to": answer.pk})
        read = await receive(agent_desk, "conversation.read")
        # Then
        assert [shown["id"] for shown in history["messages"]][-2:] == [question.pk, answer.pk]
        assert told["up_to"] == question.pk
        assert (read["reader"], read["up_to"]) == ("customer", answer.pk)

    run(scenario)
    assert set(ChatReadMark.objects.values_list("reader", "up_to")) == {("agent", question.pk), ("customer", answer.pk)}


@pytest.mark.parametrize(
    ("up_to", "code"),
    [("12", "invalid_up_to"), (True, "invalid_up_to"), (0, "invalid_up_to"), (10**12, "unknown_message")],
)
def test_a_bad_read_receipt_is_an_error_frame_and_nothing_is_kept(site, chat, up_to, code):
    _, token = chat

    async def scenario():
        # Given
        visitor = await widget_of(site, token)
        # When
        await visitor.send_json_to({"type": "read", "up_to": up_to})
        error = await receive(visitor, "error")
        # Then
        assert error["code"] == code

    run(scenario)
    assert ChatReadMark.objects.count() == 0


def test_a_message_of_another_conversation_cannot_be_marked_read(site, chat, agent, team_a):
    _, token = chat
    elsewhere = on_desk(agent, channel=Channel.CHAT, team=team_a)
    foreign = customer_says(elsewhere, "Not yours")

    async def scenario():
        visitor = await widget_of(site, token)
        # When
        await visitor.send_json_to({"type": "read", "up_to": foreign.pk})
        error = await receive(visitor, "error")
        # Then
        assert error["code"] == "unknown_message"

    run(scenario)
    assert ChatReadMark.objects.count() == 0


def test_a_read_receipt_for_an_erased_chat_is_an_error_frame(site, chat):
    conversation, token = chat

    async def scenario():
        # Given a widget on its chat, which is then erased (a privacy request)
        visitor = await widget_of(site, token)
        await database_sync_to_async(Conversation.objects.filter(pk=conversation.pk).delete)()
        # When the widget says the visitor read it
        await visitor.send_json_to({"type": "read", "up_to": 1})
        # Then an error frame, not a dropped socket
        error = await receive(visitor, "error")
        assert error["code"] == "no_conversation"

    run(scenario)
